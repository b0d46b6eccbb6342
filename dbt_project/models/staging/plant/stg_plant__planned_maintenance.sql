with

source as (

    select * from {{ source('plant', 'planned_maintenance') }}

),

final as (

    select
        cast(machine_id as varchar) as machine_id,
        cast(every_days as double) as every_days,
        cast(duration_h as double) as duration_h,
    from source

)

select * from final
