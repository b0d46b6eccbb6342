"""The plant model and what follows from it alone: calendar, reference tables, time zone."""
