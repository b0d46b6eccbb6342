with

source as (

    select * from {{ source('plant', 'days') }}

),

final as (

    select
        cast(date as date) as date,
        cast(day_start_utc as timestamp) as day_start_at,
        cast(day_end_utc as timestamp) as day_end_at,
        cast(hours as double) as day_hours,
        cast(is_holiday as boolean) as is_holiday,
    from source

)

select * from final
