with

source as (

    select * from {{ source('plant', 'machines') }}

),

final as (

    select
        cast(site_id as varchar) as site_id,
        cast(line_id as varchar) as line_id,
        cast(machine_id as varchar) as machine_id,
        cast(machine_type as varchar) as machine_type,
        cast(position as integer) as flow_position,
        cast(station_id as varchar) as station_id,
        cast(changeover_min as double) as changeover_min,
    from source

)

select * from final
