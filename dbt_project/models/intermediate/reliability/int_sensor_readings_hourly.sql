-- The historian is by far the largest input (~0.6 M samples per plant-day): aggregate it to
-- tag × hour once and keep the result as a table; every rolling feature reads this small version.
{{ config(materialized='table') }}

with

readings as (

    select * from {{ ref('stg_historian__sensor_readings') }}

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
