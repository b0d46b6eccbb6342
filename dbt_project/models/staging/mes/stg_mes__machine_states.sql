with

source as (

    select * from {{ source('mes', 'mes_states') }}

),

renamed as (

    select
        cast(machine_id as varchar) as machine_id,
        upper(cast(state as varchar)) as state,
        cast(start_ts as timestamp) as started_at,
        cast(end_ts as timestamp) as ended_at,
        cast(reason_code as varchar) as reason_code,
        cast(batch_id as varchar) as batch_id,
        cast(loaded_at as timestamp) as loaded_at,
    from source

),

-- An interval is identified by (machine, start). When a later batch re-reports it (e.g. with a
-- corrected end), the most recently loaded version wins. Overlaps between *different* intervals are
-- resolved later, in int_machine_states_resolved.
deduplicated as (

    select * from renamed
    qualify row_number() over (
        partition by machine_id, started_at
        order by loaded_at desc, batch_id desc
    ) = 1

),

final as (

    select
        *,
        date_diff('microsecond', started_at, ended_at) / 3600e6 as duration_hours,
    from deduplicated

)

select * from final
