with

source as (

    select * from {{ source('plant', 'shifts') }}

),

final as (

    select
        cast(date as date) as date,
        cast(shift_name as varchar) as shift_name,
        cast(start_utc as timestamp) as shift_start_at,
        cast(end_utc as timestamp) as shift_end_at,
        cast(hours as double) as shift_hours,
    from source

)

select * from final
