with

source as (

    select * from {{ source('plant', 'cycle_times') }}

),

final as (

    select
        cast(machine_id as varchar) as machine_id,
        cast(product_id as varchar) as product_id,
        cast(ideal_cycle_time_s as double) as ideal_cycle_time_s,
    from source

)

select * from final
