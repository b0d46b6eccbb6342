{#- The lake folder may not exist yet (nothing simulated or scored, and ensure_publish_inputs
    not run): read_parquet fails on a glob without matches, so build from an empty, typed input
    instead and let the publication's contract check decide. The source is referenced either way
    for lineage. -#}
{%- set input_source = source('ml_output', 'machine_failure_risk') -%}
{%- set input_glob = var('lake_root', var('twin_home', env_var('TWIN_HOME', 'data')) ~ '/lake') ~ '/ml/machine_failure_risk*.parquet' -%}
{%- set input_has_files = execute
    and run_query("select count(*) from glob('" ~ input_glob ~ "')").columns[0].values()[0] > 0 -%}
-- Failure risk per machine at the latest data time (DESIGN §3.4). The scoring step writes one file;
-- the latest as_of per machine wins should it ever hold older scores too.
with

scores as (

    {% if input_has_files %}
    select * from {{ input_source }}
    {% else %}
    select
        cast(null as varchar) as site_id,
        cast(null as varchar) as machine_id,
        cast(null as timestamp) as as_of,
        cast(null as double) as p_failure_72h,
        cast(null as double) as hours_to_failure_p10,
        cast(null as double) as hours_to_failure_p50,
        cast(null as double) as hours_to_failure_p90,
        cast(null as varchar) as failure_mode,
        cast(null as varchar) as model_version,
        cast(null as varchar) as risk_drivers,
        cast(null as varchar) as driver_1,
        cast(null as varchar) as driver_2,
        cast(null as varchar) as driver_3,
    where false
    {% endif %}

),

latest_scores as (

    select *
    from scores
    qualify row_number() over (partition by site_id, machine_id order by as_of desc) = 1

),

final as (

    select
        cast(site_id as varchar) as site_id,
        cast(machine_id as varchar) as machine_id,
        cast(as_of as timestamp) as as_of,
        cast(p_failure_72h as double) as p_failure_72h,
        cast(hours_to_failure_p10 as double) as hours_to_failure_p10,
        cast(hours_to_failure_p50 as double) as hours_to_failure_p50,
        cast(hours_to_failure_p90 as double) as hours_to_failure_p90,
        cast(failure_mode as varchar) as failure_mode,
        cast(model_version as varchar) as model_version,
        -- Stamped by the publication step.
        cast(null as varchar) as publication_id,
        -- Contract 1.1.0: why the machine is at risk (null in scores written before 1.1.0; the
        -- zero-row schema file brings the columns into the union).
        cast(risk_drivers as varchar) as risk_drivers,
        cast(driver_1 as varchar) as driver_1,
        cast(driver_2 as varchar) as driver_2,
        cast(driver_3 as varchar) as driver_3,
    from latest_scores

)

select * from final
