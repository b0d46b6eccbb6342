with

source as (

    select * from {{ source('mes', 'mes_production') }}

),

renamed as (

    select
        cast(machine_id as varchar) as machine_id,
        cast(start_ts as timestamp) as started_at,
        cast(end_ts as timestamp) as ended_at,
        cast(product_id as varchar) as product_id,
        cast(work_order_id as varchar) as work_order_id,
        cast(good_qty as bigint) as good_qty,
        cast(scrap_qty as bigint) as scrap_qty,
        cast(batch_id as varchar) as batch_id,
        cast(loaded_at as timestamp) as loaded_at,
    from source

),

-- A count is identified by (machine, start, product); a re-reported count from a later batch
-- replaces the earlier one.
deduplicated as (

    select * from renamed
    qualify row_number() over (
        partition by machine_id, started_at, product_id
        order by loaded_at desc, batch_id desc
    ) = 1

),

final as (

    select
        *,
        good_qty + scrap_qty as produced_qty,
    from deduplicated

)

select * from final
