-- The current demand plan: the plan version of the most recently loaded batch (DESIGN §3.5), so a
-- new version replaces the old one whole instead of mixing with it. Within that version, a row
-- re-exported in a later batch replaces the earlier one.
with

source as (

    select * from {{ source('demand_plan', 'demand_plan') }}

),

renamed as (

    select
        cast(plan_version as varchar) as plan_version,
        cast(product_id as varchar) as product_id,
        cast(bucket_start as date) as bucket_start,
        -- weekly buckets start on Monday: a plan dated on another day counts for its week
        cast(date_trunc('week', cast(bucket_start as date)) as date) as week_start,
        cast(quantity as double) as demand_units,
        cast(line_id as varchar) as line_id,
        cast(site_id as varchar) as site_id,
        cast(batch_id as varchar) as batch_id,
        cast(loaded_at as timestamp) as loaded_at,
    from source

),

current_version as (

    select plan_version from renamed
    order by loaded_at desc, batch_id desc
    limit 1

),

deduplicated as (

    select renamed.* from renamed
    inner join current_version using (plan_version)
    qualify row_number() over (
        partition by product_id, bucket_start, line_id
        order by loaded_at desc, batch_id desc
    ) = 1

),

final as (

    select * from deduplicated

)

select * from final
