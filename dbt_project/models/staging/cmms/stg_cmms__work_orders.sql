with

source as (

    select * from {{ source('cmms', 'cmms') }}

),

renamed as (

    select
        cast(work_order_id as varchar) as work_order_id,
        cast(machine_id as varchar) as machine_id,
        upper(cast(type as varchar)) as work_order_type,
        cast(failure_mode as varchar) as failure_mode,
        cast(reported_ts as timestamp) as reported_at,
        cast(start_ts as timestamp) as started_at,
        cast(end_ts as timestamp) as ended_at,
        cast(batch_id as varchar) as batch_id,
        cast(loaded_at as timestamp) as loaded_at,
    from source

),

-- Work orders are re-exported as they progress (opened, then closed with an end time): the most
-- recently loaded version of a work order wins.
deduplicated as (

    select * from renamed
    qualify row_number() over (
        partition by work_order_id
        order by loaded_at desc, batch_id desc
    ) = 1

),

final as (

    select
        *,
        work_order_type = 'CORRECTIVE' as is_corrective,
        ended_at is null as is_open,
        date_diff('microsecond', started_at, ended_at) / 3600e6 as repair_hours,
    from deduplicated

)

select * from final
