"""Publication into PostgreSQL (DESIGN §3.7): every site's published objects in one database."""
