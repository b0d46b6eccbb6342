with

source as (

    select * from {{ source('plant', 'lines') }}

),

final as (

    select
        cast(site_id as varchar) as site_id,
        cast(line_id as varchar) as line_id,
        cast(buffer_capacity as integer) as buffer_capacity,
        cast(machine_count as integer) as machine_count,
    from source

)

select * from final
