-- The historian is by far the largest input (~0.5 M samples per plant-day, 86 M on a 5,000-tag
-- plant): aggregate it to tag × day and keep the result, so everything downstream reads the small
-- version. Built one site-local day per query (macros/materializations/incremental_by_day.sql):
-- the day's bounds reach the Parquet scan, so a day costs one day of samples whatever the history.
{{ config(materialized='incremental_by_day', day_set='historian_samples', day_column='date') }}

with

readings as (

    select * from {{ ref('stg_historian__sensor_readings') }}
    where {{ build_day_start() }} is null
        or (measured_at >= {{ build_day_start() }} and measured_at < {{ build_day_end() }})

),

days as (

    select * from {{ ref('stg_plant__days') }}
    where {{ build_day() }} is null or date = {{ build_day() }}

),

tags as (

    select * from {{ ref('stg_plant__tags') }}

),

-- Only the calendar days the readings span take part in the range join.
days_in_span as (

    select days.*
    from days
    where days.day_end_at > (select min(measured_at) from readings)
        and days.day_start_at <= (select max(measured_at) from readings)

),

readings_by_day as (

    select
        readings.tag,
        days_in_span.date,
        days_in_span.day_hours,
        readings.measured_at,
        readings.value,
        readings.quality,
    from readings
    inner join days_in_span
        on readings.measured_at >= days_in_span.day_start_at
        and readings.measured_at < days_in_span.day_end_at

),

aggregated as (

    select
        tag,
        date,
        any_value(day_hours) as day_hours,
        count(*) as samples_received,
        count(*) filter (where quality = 'GOOD') as good_samples,
        avg(value) filter (where quality = 'GOOD') as mean_good_value,
        min(measured_at) filter (where quality = 'GOOD') as first_good_at,
        max(measured_at) filter (where quality = 'GOOD') as last_good_at,
    from readings_by_day
    group by tag, date

),

-- Energy of a power tag (kW): time-weighted as mean power × hours covered, where the covered span
-- runs from the first to the last good sample plus one sampling period (capped at the day). Short
-- drop-outs are bridged at the mean; a day the historian only partly delivered is not extrapolated.
with_energy as (

    select
        aggregated.*,
        tags.machine_id,
        tags.signal,
        case
            when tags.signal = 'power' and aggregated.good_samples > 0
                then aggregated.mean_good_value * least(
                    aggregated.day_hours,
                    (date_diff('microsecond', aggregated.first_good_at, aggregated.last_good_at) / 1e6
                        + tags.period_s) / 3600
                )
        end as energy_kwh,
    from aggregated
    inner join tags
        on tags.tag = aggregated.tag

),

final as (

    select
        machine_id,
        tag,
        signal,
        date,
        samples_received,
        good_samples,
        energy_kwh,
    from with_energy

)

select * from final
