with

machines as (

    select * from {{ ref('stg_plant__machines') }}

),

tags as (

    select * from {{ ref('stg_plant__tags') }}

),

cycle_times as (

    select * from {{ ref('stg_plant__cycle_times') }}

),

tag_counts as (

    select
        machine_id,
        count(*) as tag_count,
        count(*) filter (where signal = 'power') as power_tag_count,
    from tags
    group by machine_id

),

product_counts as (

    select
        machine_id,
        count(*) as product_count,
    from cycle_times
    group by machine_id

),

final as (

    select
        machines.site_id,
        machines.line_id,
        machines.machine_id,
        machines.machine_type,
        machines.flow_position,
        machines.station_id,
        machines.flow_position = max(machines.flow_position) over (partition by machines.line_id)
            as is_line_output,
        machines.changeover_min,
        coalesce(tag_counts.tag_count, 0) as tag_count,
        coalesce(tag_counts.power_tag_count, 0) as power_tag_count,
        coalesce(product_counts.product_count, 0) as product_count,
    from machines
    left join tag_counts
        on tag_counts.machine_id = machines.machine_id
    left join product_counts
        on product_counts.machine_id = machines.machine_id

)

select * from final
