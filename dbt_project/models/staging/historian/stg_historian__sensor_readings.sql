with

source as (

    select * from {{ source('historian', 'historian') }}

),

renamed as (

    select
        cast(tag as varchar) as tag,
        cast(ts as timestamp) as measured_at,
        cast(value as double) as value,
        upper(cast(quality as varchar)) as quality,
        cast(batch_id as varchar) as batch_id,
        cast(loaded_at as timestamp) as loaded_at,
    from source

),

-- The same (tag, time) can arrive in two batches (re-exports, overlapping windows): the most recently
-- loaded batch wins; batch_id breaks a tie so the choice is deterministic.
deduplicated as (

    select * from renamed
    qualify row_number() over (
        partition by tag, measured_at
        order by loaded_at desc, batch_id desc
    ) = 1

),

final as (

    select * from deduplicated

)

select * from final
