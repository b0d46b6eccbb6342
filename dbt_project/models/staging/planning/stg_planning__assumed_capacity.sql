-- What the planning system assumes per resource and bucket: the most recently loaded figure wins.
with

source as (

    select * from {{ source('assumed_capacity', 'assumed_capacity') }}

),

renamed as (

    select
        cast(resource_id as varchar) as resource_id,
        cast(bucket_start as date) as bucket_start,
        cast(capacity_units as double) as assumed_capacity_units,
        cast(batch_id as varchar) as batch_id,
        cast(loaded_at as timestamp) as loaded_at,
    from source

),

deduplicated as (

    select * from renamed
    qualify row_number() over (
        partition by resource_id, bucket_start
        order by loaded_at desc, batch_id desc
    ) = 1

),

final as (

    select * from deduplicated

)

select * from final
