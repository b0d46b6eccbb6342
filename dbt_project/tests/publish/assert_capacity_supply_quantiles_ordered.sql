-- p10 <= p50 <= p90 of available hours and capacity units for every resource, bucket and scenario,
-- and all three quantiles present. Rows returned are violations.
with

capacity as (

    select * from {{ ref('capacity_supply') }}

),

pivoted as (

    select
        site_id, resource_level, resource_id, bucket_grain, bucket_start, scenario_id,
        count(*) as quantile_rows,
        max(available_hours) filter (where quantile = 'p10') as hours_p10,
        max(available_hours) filter (where quantile = 'p50') as hours_p50,
        max(available_hours) filter (where quantile = 'p90') as hours_p90,
        max(capacity_units) filter (where quantile = 'p10') as units_p10,
        max(capacity_units) filter (where quantile = 'p50') as units_p50,
        max(capacity_units) filter (where quantile = 'p90') as units_p90,
    from capacity
    group by all

)

select *
from pivoted
where quantile_rows != 3
    or hours_p10 is null or hours_p50 is null or hours_p90 is null
    or not (hours_p10 <= hours_p50 and hours_p50 <= hours_p90)
    or not (units_p10 <= units_p50 and units_p50 <= units_p90)
