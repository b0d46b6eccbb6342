-- Tag × day: one site-local day per query (incremental_by_day); a day is rebuilt when historian
-- samples of it arrive late, and every new date with data is added.
{{ config(materialized='incremental_by_day', day_set='days_with_data', day_column='date') }}
-- depends_on: {{ ref('stg_plant__days') }}

with

tags as (

    select * from {{ ref('stg_plant__tags') }}

),

days as (

    select * from {{ ref('int_days_with_data') }}
    where {{ build_day() }} is null or date = {{ build_day() }}

),

tag_days as (

    select * from {{ ref('int_sensor_readings_aggregated_to_day') }}
    where {{ build_day() }} is null or date = {{ build_day() }}

),

spine as (

    select
        tags.machine_id,
        tags.tag,
        tags.signal,
        tags.period_s,
        days.date,
        days.day_hours,
    from tags
    cross join days

),

-- Expected samples follow the tag's nominal period over the whole site-local day (23/24/25 h);
-- only GOOD samples count as received. Extra samples (jitter) never push completeness above 1.
final as (

    select
        spine.machine_id,
        spine.tag,
        spine.signal,
        spine.date,
        spine.day_hours * 3600 / spine.period_s as expected_samples,
        coalesce(tag_days.samples_received, 0) as samples_received,
        coalesce(tag_days.good_samples, 0) as good_samples,
        least(
            1.0,
            coalesce(tag_days.good_samples, 0) / (spine.day_hours * 3600 / spine.period_s)
        ) as completeness,
        tag_days.energy_kwh,
    from spine
    left join tag_days
        on tag_days.tag = spine.tag
        and tag_days.date = spine.date

)

select * from final
