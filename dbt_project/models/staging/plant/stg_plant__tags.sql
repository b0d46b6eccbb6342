with

source as (

    select * from {{ source('plant', 'tags') }}

),

final as (

    select
        cast(machine_id as varchar) as machine_id,
        cast(tag as varchar) as tag,
        lower(cast(signal as varchar)) as signal,
        cast(unit as varchar) as unit,
        cast(period_s as double) as period_s,
        cast(min_value as double) as min_value,
        cast(max_value as double) as max_value,
    from source

)

select * from final
