{#- The lake folder may not exist yet (nothing simulated, and ensure_publish_inputs not run):
    read_parquet fails on a glob without matches, so build from an empty, typed input instead and
    let the publication's contract check decide. The source is referenced either way for lineage. -#}
{%- set input_source = source('simulation_output', 'prediction_effect') -%}
{%- set input_glob = var('lake_root', var('twin_home', env_var('TWIN_HOME', 'data')) ~ '/lake') ~ '/simulation/prediction_effect/*.parquet' -%}
{%- set input_has_files = execute
    and run_query("select count(*) from glob('" ~ input_glob ~ "')").columns[0].values()[0] > 0 -%}
-- What the failure-risk prediction changed in the plan of record: weekly line capacity with the
-- near-term risk against history-only failure rates (twin/simulation/prediction_effect.py).
with

effect_runs as (

    {% if input_has_files %}
    select * from {{ input_source }}
    {% else %}
    select
        cast(null as varchar) as site_id,
        cast(null as varchar) as line_id,
        cast(null as varchar) as scenario_id,
        cast(null as varchar) as bucket_grain,
        cast(null as date) as bucket_start,
        cast(null as date) as bucket_end,
        cast(null as boolean) as is_partial,
        cast(null as varchar) as uom,
        cast(null as integer) as machines_with_risk,
        cast(null as double) as capacity_p50_with_risk,
        cast(null as double) as capacity_p50_history_only,
        cast(null as double) as p50_difference_units,
        cast(null as double) as p50_difference_share,
        cast(null as double) as capacity_p10_with_risk,
        cast(null as double) as capacity_p10_history_only,
    where false
    {% endif %}

),

final as (

    select
        cast(site_id as varchar) as site_id,
        cast(line_id as varchar) as line_id,
        cast(scenario_id as varchar) as scenario_id,
        cast(bucket_grain as varchar) as bucket_grain,
        cast(bucket_start as date) as bucket_start,
        cast(bucket_end as date) as bucket_end,
        cast(is_partial as boolean) as is_partial,
        cast(uom as varchar) as uom,
        cast(machines_with_risk as integer) as machines_with_risk,
        cast(capacity_p50_with_risk as double) as capacity_p50_with_risk,
        cast(capacity_p50_history_only as double) as capacity_p50_history_only,
        cast(p50_difference_units as double) as p50_difference_units,
        cast(p50_difference_share as double) as p50_difference_share,
        cast(capacity_p10_with_risk as double) as capacity_p10_with_risk,
        cast(capacity_p10_history_only as double) as capacity_p10_history_only,
        -- Stamped by the publication step (the model version from the publication's lineage).
        cast(null as varchar) as model_version,
        cast(null as varchar) as publication_id,
    from effect_runs

)

select * from final
