with

tag_days as (

    select * from {{ ref('int_tag_completeness_daily') }}

),

machines as (

    select * from {{ ref('stg_plant__machines') }}

),

final as (

    select
        machines.site_id,
        machines.line_id,
        tag_days.machine_id,
        tag_days.tag,
        tag_days.signal,
        tag_days.date,
        {{ round_kpi('tag_days.expected_samples') }} as expected_samples,
        tag_days.samples_received,
        tag_days.good_samples,
        {{ round_kpi('tag_days.completeness') }} as completeness,
    from tag_days
    inner join machines
        on machines.machine_id = tag_days.machine_id

)

select * from final
