-- The historian is by far the largest input (~0.6 M samples per plant-day): aggregate it to
-- tag × hour and keep the result; every rolling feature reads this small version. Built one
-- site-local day per query: the day's hours end in (day_start_at, day_end_at], so they hold the
-- samples in (day_start_at − 1 h, day_end_at] (the extra hour serves time zones with half-hour
-- offsets, whose day starts inside a UTC hour).
{{ config(materialized='incremental_by_day', day_set='historian_hours', hour_column='hour_end_at') }}
-- depends_on: {{ ref('stg_plant__days') }}

with

readings as (

    select * from {{ ref('stg_historian__sensor_readings') }}
    where {{ build_day_start() }} is null
        or (
            measured_at > {{ build_day_start() }} - interval 1 hour
            and measured_at <= {{ build_day_end() }}
        )

),

tags as (

    select * from {{ ref('stg_plant__tags') }}

),

-- An hour is named by its END (as_of): the bucket ending at 10:00 holds samples in (09:00, 10:00].
-- A sample stamped exactly 10:00:00 is therefore known at 10:00 and belongs to that bucket.
bucketed as (

    select
        tag,
        date_trunc('hour', measured_at - interval 1 microsecond) + interval 1 hour as hour_end_at,
        measured_at,
        value,
        quality,
    from readings

),

aggregated as (

    select
        tag,
        hour_end_at,
        count(*) as samples_received,
        count(*) filter (where quality = 'GOOD') as good_samples,
        avg(value) filter (where quality = 'GOOD') as mean_good_value,
        -- Sum of squared deviations from the hour's mean (M2): lets longer windows combine hours
        -- into an exact standard deviation without re-reading the samples.
        coalesce(var_pop(value) filter (where quality = 'GOOD'), 0)
            * count(*) filter (where quality = 'GOOD') as sum_sq_dev_good,
        max(value) filter (where quality = 'GOOD') as max_good_value,
        max(measured_at) as last_measured_at,
    from bucketed
    where {{ build_day_start() }} is null
        or (hour_end_at > {{ build_day_start() }} and hour_end_at <= {{ build_day_end() }})
    group by tag, hour_end_at

),

final as (

    select
        tags.machine_id,
        aggregated.tag,
        tags.signal,
        tags.period_s,
        aggregated.hour_end_at,
        aggregated.samples_received,
        aggregated.good_samples,
        aggregated.mean_good_value,
        aggregated.sum_sq_dev_good,
        aggregated.max_good_value,
        aggregated.last_measured_at,
    from aggregated
    inner join tags
        on tags.tag = aggregated.tag

)

select * from final
