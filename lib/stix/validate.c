/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Validation of STIX 2.1 objects: one table of properties per type (required
 * or not, and what kind of value), the common properties per object kind, the
 * rules that tie properties together, vocabularies (closed ones enforced, open
 * ones warned about) and granular-marking selectors.  Every issue names the
 * object, the property path, what was expected and what was found.
 */
#include <string.h>

#include "stix/stix_impl.h"

/* ---- the report ---- */

pk_stix_report *pk_stix_report_new(void)
{
    return pk_calloc(1, sizeof(pk_stix_report));
}

void pk_stix_report_free(pk_stix_report *r)
{
    if (!r) return;
    pk_free(r->v);
    pk_free(r);
}

void pk_stix_report_clear(pk_stix_report *r)
{
    if (r) r->n = r->errors = r->warnings = 0;
}

size_t pk_stix_report_count(const pk_stix_report *r)
{
    return r ? r->n : 0;
}
size_t pk_stix_report_errors(const pk_stix_report *r)
{
    return r ? r->errors : 0;
}
size_t pk_stix_report_warnings(const pk_stix_report *r)
{
    return r ? r->warnings : 0;
}

const pk_stix_issue *pk_stix_report_get(const pk_stix_report *r, size_t i)
{
    return r && i < r->n ? &r->v[i] : NULL;
}

/* ---- property kinds and the tables ---- */

enum kind {
    K_STR,     /* string */
    K_TS,      /* timestamp */
    K_ID,      /* identifier; `arg` lists allowed types ("identity marking-definition"), NULL any */
    K_IDS,     /* list of identifiers */
    K_STRS,    /* list of strings */
    K_INT,     /* integer; arg "min max" */
    K_NUM,     /* number */
    K_BOOL,    /* boolean */
    K_OV,      /* open vocabulary string; arg: vocabulary name */
    K_OVS,     /* list of open vocabulary strings */
    K_ENUM,    /* closed vocabulary string */
    K_ENUMS,   /* list of closed vocabulary strings */
    K_HASHES,  /* hashes dictionary */
    K_KCP,     /* kill-chain phases */
    K_EXTREFS, /* external references */
    K_DICT,    /* dictionary (JSON object) */
    K_LIST,    /* list of anything */
    K_ANY,     /* anything */
    K_BIN,     /* base64 */
    K_HEX,     /* hex string */
    K_GRAN,    /* granular markings */
    K_EXTS,    /* extensions dictionary */
    K_LANG,    /* RFC 5646 language tag */
};

typedef struct prop {
    const char *name;
    enum kind kind;
    int required;
    const char *arg;
} prop;

#define END                                                                                        \
    {                                                                                              \
        NULL, K_ANY, 0, NULL                                                                       \
    }

static const prop common_sdo[] = {
    {"type", K_STR, 1, NULL},
    {"spec_version", K_STR, 1, NULL},
    {"id", K_ID, 1, NULL},
    {"created", K_TS, 1, NULL},
    {"modified", K_TS, 1, NULL},
    {"created_by_ref", K_ID, 0, "identity"},
    {"revoked", K_BOOL, 0, NULL},
    {"labels", K_STRS, 0, NULL},
    {"confidence", K_INT, 0, "0 100"},
    {"lang", K_LANG, 0, NULL},
    {"external_references", K_EXTREFS, 0, NULL},
    {"object_marking_refs", K_IDS, 0, "marking-definition"},
    {"granular_markings", K_GRAN, 0, NULL},
    {"extensions", K_EXTS, 0, NULL},
    END,
};

static const prop common_sco[] = {
    {"type", K_STR, 1, NULL},
    {"spec_version", K_STR, 0, NULL},
    {"id", K_ID, 1, NULL},
    {"object_marking_refs", K_IDS, 0, "marking-definition"},
    {"granular_markings", K_GRAN, 0, NULL},
    {"defanged", K_BOOL, 0, NULL},
    {"extensions", K_EXTS, 0, NULL},
    END,
};

static const prop p_attack_pattern[] = {{"name", K_STR, 1, NULL},
                                        {"description", K_STR, 0, NULL},
                                        {"aliases", K_STRS, 0, NULL},
                                        {"kill_chain_phases", K_KCP, 0, NULL},
                                        END};
static const prop p_campaign[] = {{"name", K_STR, 1, NULL},
                                  {"description", K_STR, 0, NULL},
                                  {"aliases", K_STRS, 0, NULL},
                                  {"first_seen", K_TS, 0, NULL},
                                  {"last_seen", K_TS, 0, NULL},
                                  {"objective", K_STR, 0, NULL},
                                  END};
static const prop p_coa[] = {
    {"name", K_STR, 1, NULL}, {"description", K_STR, 0, NULL}, {"action", K_ANY, 0, NULL}, END};
static const prop p_grouping[] = {{"name", K_STR, 0, NULL},
                                  {"description", K_STR, 0, NULL},
                                  {"context", K_OV, 1, "grouping-context"},
                                  {"object_refs", K_IDS, 1, NULL},
                                  END};
static const prop p_identity[] = {{"name", K_STR, 1, NULL},
                                  {"description", K_STR, 0, NULL},
                                  {"roles", K_STRS, 0, NULL},
                                  {"identity_class", K_OV, 0, "identity-class"},
                                  {"sectors", K_OVS, 0, "industry-sector"},
                                  {"contact_information", K_STR, 0, NULL},
                                  END};
static const prop p_incident[] = {{"name", K_STR, 1, NULL},
                                  {"description", K_STR, 0, NULL},
                                  {"kill_chain_phases", K_KCP, 0, NULL},
                                  END};
static const prop p_indicator[] = {{"name", K_STR, 0, NULL},
                                   {"description", K_STR, 0, NULL},
                                   {"indicator_types", K_OVS, 0, "indicator-type"},
                                   {"pattern", K_STR, 1, NULL},
                                   {"pattern_type", K_OV, 1, "pattern-type"},
                                   {"pattern_version", K_STR, 0, NULL},
                                   {"valid_from", K_TS, 1, NULL},
                                   {"valid_until", K_TS, 0, NULL},
                                   {"kill_chain_phases", K_KCP, 0, NULL},
                                   END};
static const prop p_infrastructure[] = {{"name", K_STR, 1, NULL},
                                        {"description", K_STR, 0, NULL},
                                        {"infrastructure_types", K_OVS, 0, "infrastructure-type"},
                                        {"aliases", K_STRS, 0, NULL},
                                        {"kill_chain_phases", K_KCP, 0, NULL},
                                        {"first_seen", K_TS, 0, NULL},
                                        {"last_seen", K_TS, 0, NULL},
                                        END};
static const prop p_intrusion_set[] = {{"name", K_STR, 1, NULL},
                                       {"description", K_STR, 0, NULL},
                                       {"aliases", K_STRS, 0, NULL},
                                       {"first_seen", K_TS, 0, NULL},
                                       {"last_seen", K_TS, 0, NULL},
                                       {"goals", K_STRS, 0, NULL},
                                       {"resource_level", K_OV, 0, "attack-resource-level"},
                                       {"primary_motivation", K_OV, 0, "attack-motivation"},
                                       {"secondary_motivations", K_OVS, 0, "attack-motivation"},
                                       END};
static const prop p_location[] = {
    {"name", K_STR, 0, NULL},         {"description", K_STR, 0, NULL},
    {"latitude", K_NUM, 0, "-90 90"}, {"longitude", K_NUM, 0, "-180 180"},
    {"precision", K_NUM, 0, NULL},    {"region", K_OV, 0, "region"},
    {"country", K_STR, 0, NULL},      {"administrative_area", K_STR, 0, NULL},
    {"city", K_STR, 0, NULL},         {"street_address", K_STR, 0, NULL},
    {"postal_code", K_STR, 0, NULL},  END};
static const prop p_malware[] = {
    {"name", K_STR, 0, NULL},
    {"description", K_STR, 0, NULL},
    {"malware_types", K_OVS, 0, "malware-type"},
    {"is_family", K_BOOL, 1, NULL},
    {"aliases", K_STRS, 0, NULL},
    {"kill_chain_phases", K_KCP, 0, NULL},
    {"first_seen", K_TS, 0, NULL},
    {"last_seen", K_TS, 0, NULL},
    {"operating_system_refs", K_IDS, 0, "software"},
    {"architecture_execution_envs", K_OVS, 0, "processor-architecture"},
    {"implementation_languages", K_OVS, 0, "implementation-language"},
    {"capabilities", K_OVS, 0, "malware-capabilities"},
    {"sample_refs", K_IDS, 0, "artifact file"},
    END};
static const prop p_malware_analysis[] = {{"product", K_STR, 1, NULL},
                                          {"version", K_STR, 0, NULL},
                                          {"host_vm_ref", K_ID, 0, "software"},
                                          {"operating_system_ref", K_ID, 0, "software"},
                                          {"installed_software_refs", K_IDS, 0, "software"},
                                          {"configuration_version", K_STR, 0, NULL},
                                          {"modules", K_STRS, 0, NULL},
                                          {"analysis_engine_version", K_STR, 0, NULL},
                                          {"analysis_definition_version", K_STR, 0, NULL},
                                          {"submitted", K_TS, 0, NULL},
                                          {"analysis_started", K_TS, 0, NULL},
                                          {"analysis_ended", K_TS, 0, NULL},
                                          {"result_name", K_STR, 0, NULL},
                                          {"result", K_OV, 0, "malware-result"},
                                          {"analysis_sco_refs", K_IDS, 0, NULL},
                                          {"sample_ref", K_ID, 0, NULL},
                                          END};
static const prop p_note[] = {{"abstract", K_STR, 0, NULL},
                              {"content", K_STR, 1, NULL},
                              {"authors", K_STRS, 0, NULL},
                              {"object_refs", K_IDS, 1, NULL},
                              END};
static const prop p_observed_data[] = {{"first_observed", K_TS, 1, NULL},
                                       {"last_observed", K_TS, 1, NULL},
                                       {"number_observed", K_INT, 1, "1 999999999"},
                                       {"objects", K_DICT, 0, NULL},
                                       {"object_refs", K_IDS, 0, NULL},
                                       END};
static const prop p_opinion[] = {{"explanation", K_STR, 0, NULL},
                                 {"authors", K_STRS, 0, NULL},
                                 {"opinion", K_ENUM, 1, "opinion"},
                                 {"object_refs", K_IDS, 1, NULL},
                                 END};
static const prop p_report[] = {{"name", K_STR, 1, NULL},
                                {"description", K_STR, 0, NULL},
                                {"report_types", K_OVS, 0, "report-type"},
                                {"published", K_TS, 1, NULL},
                                {"object_refs", K_IDS, 1, NULL},
                                END};
static const prop p_threat_actor[] = {{"name", K_STR, 1, NULL},
                                      {"description", K_STR, 0, NULL},
                                      {"threat_actor_types", K_OVS, 0, "threat-actor-type"},
                                      {"aliases", K_STRS, 0, NULL},
                                      {"first_seen", K_TS, 0, NULL},
                                      {"last_seen", K_TS, 0, NULL},
                                      {"roles", K_OVS, 0, "threat-actor-role"},
                                      {"goals", K_STRS, 0, NULL},
                                      {"sophistication", K_OV, 0, "threat-actor-sophistication"},
                                      {"resource_level", K_OV, 0, "attack-resource-level"},
                                      {"primary_motivation", K_OV, 0, "attack-motivation"},
                                      {"secondary_motivations", K_OVS, 0, "attack-motivation"},
                                      {"personal_motivations", K_OVS, 0, "attack-motivation"},
                                      END};
static const prop p_tool[] = {{"name", K_STR, 1, NULL},
                              {"description", K_STR, 0, NULL},
                              {"tool_types", K_OVS, 0, "tool-type"},
                              {"aliases", K_STRS, 0, NULL},
                              {"kill_chain_phases", K_KCP, 0, NULL},
                              {"tool_version", K_STR, 0, NULL},
                              END};
static const prop p_vulnerability[] = {
    {"name", K_STR, 1, NULL}, {"description", K_STR, 0, NULL}, END};
static const prop p_relationship[] = {{"relationship_type", K_STR, 1, NULL},
                                      {"description", K_STR, 0, NULL},
                                      {"source_ref", K_ID, 1, NULL},
                                      {"target_ref", K_ID, 1, NULL},
                                      {"start_time", K_TS, 0, NULL},
                                      {"stop_time", K_TS, 0, NULL},
                                      END};
static const prop p_sighting[] = {{"description", K_STR, 0, NULL},
                                  {"first_seen", K_TS, 0, NULL},
                                  {"last_seen", K_TS, 0, NULL},
                                  {"count", K_INT, 0, "0 999999999"},
                                  {"sighting_of_ref", K_ID, 1, NULL},
                                  {"observed_data_refs", K_IDS, 0, "observed-data"},
                                  {"where_sighted_refs", K_IDS, 0, "identity location"},
                                  {"summary", K_BOOL, 0, NULL},
                                  END};
static const prop p_marking[] = {{"type", K_STR, 1, NULL},
                                 {"spec_version", K_STR, 1, NULL},
                                 {"id", K_ID, 1, NULL},
                                 {"created_by_ref", K_ID, 0, "identity"},
                                 {"created", K_TS, 1, NULL},
                                 {"external_references", K_EXTREFS, 0, NULL},
                                 {"object_marking_refs", K_IDS, 0, "marking-definition"},
                                 {"granular_markings", K_GRAN, 0, NULL},
                                 {"extensions", K_EXTS, 0, NULL},
                                 {"name", K_STR, 0, NULL},
                                 {"definition_type", K_STR, 0, NULL},
                                 {"definition", K_DICT, 0, NULL},
                                 END};
static const prop p_language_content[] = {{"object_ref", K_ID, 1, NULL},
                                          {"object_modified", K_TS, 0, NULL},
                                          {"contents", K_DICT, 1, NULL},
                                          END};
static const prop p_extension_definition[] = {{"name", K_STR, 1, NULL},
                                              {"description", K_STR, 0, NULL},
                                              {"schema", K_STR, 1, NULL},
                                              {"version", K_STR, 1, NULL},
                                              {"extension_types", K_ENUMS, 1, "extension-type"},
                                              {"extension_properties", K_STRS, 0, NULL},
                                              END};
/* SCOs */
static const prop p_artifact[] = {{"mime_type", K_STR, 0, NULL},
                                  {"payload_bin", K_BIN, 0, NULL},
                                  {"url", K_STR, 0, NULL},
                                  {"hashes", K_HASHES, 0, NULL},
                                  {"encryption_algorithm", K_ENUM, 0, "encryption-algorithm"},
                                  {"decryption_key", K_STR, 0, NULL},
                                  END};
static const prop p_as[] = {
    {"number", K_INT, 1, NULL}, {"name", K_STR, 0, NULL}, {"rir", K_STR, 0, NULL}, END};
static const prop p_directory[] = {{"path", K_STR, 1, NULL},
                                   {"path_enc", K_STR, 0, NULL},
                                   {"ctime", K_TS, 0, NULL},
                                   {"mtime", K_TS, 0, NULL},
                                   {"atime", K_TS, 0, NULL},
                                   {"contains_refs", K_IDS, 0, "file directory"},
                                   END};
static const prop p_domain_name[] = {
    {"value", K_STR, 1, NULL}, {"resolves_to_refs", K_IDS, 0, NULL}, END};
static const prop p_email_addr[] = {{"value", K_STR, 1, NULL},
                                    {"display_name", K_STR, 0, NULL},
                                    {"belongs_to_ref", K_ID, 0, "user-account"},
                                    END};
static const prop p_email_message[] = {{"is_multipart", K_BOOL, 1, NULL},
                                       {"date", K_TS, 0, NULL},
                                       {"content_type", K_STR, 0, NULL},
                                       {"from_ref", K_ID, 0, "email-addr"},
                                       {"sender_ref", K_ID, 0, "email-addr"},
                                       {"to_refs", K_IDS, 0, "email-addr"},
                                       {"cc_refs", K_IDS, 0, "email-addr"},
                                       {"bcc_refs", K_IDS, 0, "email-addr"},
                                       {"message_id", K_STR, 0, NULL},
                                       {"subject", K_STR, 0, NULL},
                                       {"received_lines", K_STRS, 0, NULL},
                                       {"additional_header_fields", K_DICT, 0, NULL},
                                       {"body", K_STR, 0, NULL},
                                       {"body_multipart", K_LIST, 0, NULL},
                                       {"raw_email_ref", K_ID, 0, "artifact"},
                                       END};
static const prop p_file[] = {{"hashes", K_HASHES, 0, NULL},
                              {"size", K_INT, 0, "0 -1"},
                              {"name", K_STR, 0, NULL},
                              {"name_enc", K_STR, 0, NULL},
                              {"magic_number_hex", K_HEX, 0, NULL},
                              {"mime_type", K_STR, 0, NULL},
                              {"ctime", K_TS, 0, NULL},
                              {"mtime", K_TS, 0, NULL},
                              {"atime", K_TS, 0, NULL},
                              {"parent_directory_ref", K_ID, 0, "directory"},
                              {"contains_refs", K_IDS, 0, NULL},
                              {"content_ref", K_ID, 0, "artifact"},
                              END};
static const prop p_ipv4[] = {{"value", K_STR, 1, NULL},
                              {"resolves_to_refs", K_IDS, 0, "mac-addr"},
                              {"belongs_to_refs", K_IDS, 0, "autonomous-system"},
                              END};
static const prop p_ipv6[] = {{"value", K_STR, 1, NULL},
                              {"resolves_to_refs", K_IDS, 0, "mac-addr"},
                              {"belongs_to_refs", K_IDS, 0, "autonomous-system"},
                              END};
static const prop p_mac[] = {{"value", K_STR, 1, NULL}, END};
static const prop p_mutex[] = {{"name", K_STR, 1, NULL}, END};
static const prop p_network_traffic[] = {
    {"start", K_TS, 0, NULL},
    {"end", K_TS, 0, NULL},
    {"is_active", K_BOOL, 0, NULL},
    {"src_ref", K_ID, 0, "ipv4-addr ipv6-addr mac-addr domain-name"},
    {"dst_ref", K_ID, 0, "ipv4-addr ipv6-addr mac-addr domain-name"},
    {"src_port", K_INT, 0, "0 65535"},
    {"dst_port", K_INT, 0, "0 65535"},
    {"protocols", K_STRS, 1, NULL},
    {"src_byte_count", K_INT, 0, "0 -1"},
    {"dst_byte_count", K_INT, 0, "0 -1"},
    {"src_packets", K_INT, 0, "0 -1"},
    {"dst_packets", K_INT, 0, "0 -1"},
    {"ipfix", K_DICT, 0, NULL},
    {"src_payload_ref", K_ID, 0, "artifact"},
    {"dst_payload_ref", K_ID, 0, "artifact"},
    {"encapsulates_refs", K_IDS, 0, "network-traffic"},
    {"encapsulated_by_ref", K_ID, 0, "network-traffic"},
    END};
static const prop p_process[] = {{"is_hidden", K_BOOL, 0, NULL},
                                 {"pid", K_INT, 0, NULL},
                                 {"created_time", K_TS, 0, NULL},
                                 {"cwd", K_STR, 0, NULL},
                                 {"command_line", K_STR, 0, NULL},
                                 {"environment_variables", K_DICT, 0, NULL},
                                 {"opened_connection_refs", K_IDS, 0, "network-traffic"},
                                 {"creator_user_ref", K_ID, 0, "user-account"},
                                 {"image_ref", K_ID, 0, "file"},
                                 {"parent_ref", K_ID, 0, "process"},
                                 {"child_refs", K_IDS, 0, "process"},
                                 END};
static const prop p_software[] = {{"name", K_STR, 1, NULL},
                                  {"cpe", K_STR, 0, NULL},
                                  {"swid", K_STR, 0, NULL},
                                  {"languages", K_STRS, 0, NULL},
                                  {"vendor", K_STR, 0, NULL},
                                  {"version", K_STR, 0, NULL},
                                  END};
static const prop p_url[] = {{"value", K_STR, 1, NULL}, END};
static const prop p_user_account[] = {{"user_id", K_STR, 0, NULL},
                                      {"credential", K_STR, 0, NULL},
                                      {"account_login", K_STR, 0, NULL},
                                      {"account_type", K_OV, 0, "account-type"},
                                      {"display_name", K_STR, 0, NULL},
                                      {"is_service_account", K_BOOL, 0, NULL},
                                      {"is_privileged", K_BOOL, 0, NULL},
                                      {"can_escalate_privs", K_BOOL, 0, NULL},
                                      {"is_disabled", K_BOOL, 0, NULL},
                                      {"account_created", K_TS, 0, NULL},
                                      {"account_expires", K_TS, 0, NULL},
                                      {"credential_last_changed", K_TS, 0, NULL},
                                      {"account_first_login", K_TS, 0, NULL},
                                      {"account_last_login", K_TS, 0, NULL},
                                      END};
static const prop p_registry[] = {{"key", K_STR, 0, NULL},
                                  {"values", K_LIST, 0, NULL},
                                  {"modified_time", K_TS, 0, NULL},
                                  {"creator_user_ref", K_ID, 0, "user-account"},
                                  {"number_of_subkeys", K_INT, 0, "0 -1"},
                                  END};
static const prop p_x509[] = {{"is_self_signed", K_BOOL, 0, NULL},
                              {"hashes", K_HASHES, 0, NULL},
                              {"version", K_STR, 0, NULL},
                              {"serial_number", K_STR, 0, NULL},
                              {"signature_algorithm", K_STR, 0, NULL},
                              {"issuer", K_STR, 0, NULL},
                              {"validity_not_before", K_TS, 0, NULL},
                              {"validity_not_after", K_TS, 0, NULL},
                              {"subject", K_STR, 0, NULL},
                              {"subject_public_key_algorithm", K_STR, 0, NULL},
                              {"subject_public_key_modulus", K_STR, 0, NULL},
                              {"subject_public_key_exponent", K_INT, 0, NULL},
                              {"x509_v3_extensions", K_DICT, 0, NULL},
                              END};

static const struct type_def {
    const char *type;
    const prop *props;
} types[] = {
    {"attack-pattern", p_attack_pattern},
    {"campaign", p_campaign},
    {"course-of-action", p_coa},
    {"grouping", p_grouping},
    {"identity", p_identity},
    {"incident", p_incident},
    {"indicator", p_indicator},
    {"infrastructure", p_infrastructure},
    {"intrusion-set", p_intrusion_set},
    {"location", p_location},
    {"malware", p_malware},
    {"malware-analysis", p_malware_analysis},
    {"note", p_note},
    {"observed-data", p_observed_data},
    {"opinion", p_opinion},
    {"report", p_report},
    {"threat-actor", p_threat_actor},
    {"tool", p_tool},
    {"vulnerability", p_vulnerability},
    {"relationship", p_relationship},
    {"sighting", p_sighting},
    {"marking-definition", p_marking},
    {"language-content", p_language_content},
    {"extension-definition", p_extension_definition},
    {"artifact", p_artifact},
    {"autonomous-system", p_as},
    {"directory", p_directory},
    {"domain-name", p_domain_name},
    {"email-addr", p_email_addr},
    {"email-message", p_email_message},
    {"file", p_file},
    {"ipv4-addr", p_ipv4},
    {"ipv6-addr", p_ipv6},
    {"mac-addr", p_mac},
    {"mutex", p_mutex},
    {"network-traffic", p_network_traffic},
    {"process", p_process},
    {"software", p_software},
    {"url", p_url},
    {"user-account", p_user_account},
    {"windows-registry-key", p_registry},
    {"x509-certificate", p_x509},
};

/* ---- vocabularies ---- */

static const struct vocab {
    const char *name;
    const char *const *values;
} vocabs[] = {
#define V(n, ...)                                                                                  \
    {                                                                                              \
        n, (const char *const[])                                                                   \
        {                                                                                          \
            __VA_ARGS__, NULL                                                                      \
        }                                                                                          \
    }
    V("attack-motivation", "accidental", "coercion", "dominance", "ideology", "notoriety",
      "organizational-gain", "personal-gain", "personal-satisfaction", "revenge", "unpredictable"),
    V("attack-resource-level", "individual", "club", "contest", "team", "organization",
      "government"),
    V("grouping-context", "suspicious-activity", "malware-analysis", "unspecified"),
    V("identity-class", "individual", "group", "system", "organization", "class", "unknown"),
    V("implementation-language", "applescript", "bash", "c", "c++", "c#", "go", "java",
      "javascript", "lua", "objective-c", "perl", "php", "powershell", "python", "ruby", "scala",
      "swift", "typescript", "visual-basic", "x86-32", "x86-64"),
    V("indicator-type", "anomalous-activity", "anonymization", "benign", "compromised",
      "malicious-activity", "attribution", "unknown"),
    V("industry-sector", "agriculture", "aerospace", "automotive", "chemical", "commercial",
      "communications", "construction", "defense", "education", "energy", "entertainment",
      "financial-services", "government", "government-emergency-services", "government-local",
      "government-national", "government-public-services", "government-regional", "healthcare",
      "hospitality-leisure", "infrastructure", "infrastructure-dams", "infrastructure-nuclear",
      "infrastructure-water", "insurance", "manufacturing", "mining", "non-profit",
      "pharmaceuticals", "retail", "technology", "telecommunications", "transportation",
      "utilities"),
    V("infrastructure-type", "amplification", "anonymization", "botnet", "command-and-control",
      "control-system", "exfiltration", "firewall", "hosting-malware", "hosting-target-lists",
      "phishing", "reconnaissance", "routers-switches", "staging", "workstation", "unknown"),
    V("malware-result", "malicious", "suspicious", "benign", "unknown"),
    V("malware-capabilities", "accesses-remote-machines", "anti-debugging", "anti-disassembly",
      "anti-emulation", "anti-memory-forensics", "anti-sandbox", "anti-vm", "captures-input",
      "captures-output", "captures-system-state-data", "cleans-traces-of-infection",
      "commits-fraud", "communicates-with-c2", "compromises-data-availability",
      "compromises-data-integrity", "compromises-system-availability", "controls-local-machine",
      "degrades-security-software", "degrades-system-updates", "determines-c2-server",
      "emails-spam", "escalates-privileges", "evades-av", "exfiltrates-data", "fingerprints-host",
      "hides-artifacts", "hides-executing-code", "infects-files", "infects-remote-machines",
      "installs-other-components", "persists-after-system-reboot", "prevents-artifact-access",
      "prevents-artifact-deletion", "probes-network-environment", "self-modifies",
      "steals-authentication-credentials", "violates-system-operational-integrity"),
    V("malware-type", "adware", "backdoor", "bot", "bootkit", "ddos", "downloader", "dropper",
      "exploit-kit", "keylogger", "ransomware", "remote-access-trojan", "resource-exploitation",
      "rogue-security-software", "rootkit", "screen-capture", "spyware", "trojan", "unknown",
      "virus", "webshell", "wiper", "worm"),
    V("pattern-type", "stix", "pcre", "sigma", "snort", "suricata", "yara"),
    V("processor-architecture", "alpha", "arm", "ia-64", "mips", "powerpc", "sparc", "x86",
      "x86-64"),
    V("region", "africa", "eastern-africa", "middle-africa", "northern-africa", "southern-africa",
      "western-africa", "americas", "caribbean", "central-america", "latin-america-caribbean",
      "northern-america", "south-america", "asia", "central-asia", "eastern-asia", "southern-asia",
      "south-eastern-asia", "western-asia", "europe", "eastern-europe", "northern-europe",
      "southern-europe", "western-europe", "oceania", "antarctica", "australia-new-zealand",
      "melanesia", "micronesia", "polynesia"),
    V("report-type", "attack-pattern", "campaign", "identity", "indicator", "intrusion-set",
      "malware", "observed-data", "threat-actor", "threat-report", "tool", "vulnerability"),
    V("threat-actor-type", "activist", "competitor", "crime-syndicate", "criminal", "hacker",
      "insider-accidental", "insider-disgruntled", "nation-state", "sensationalist", "spy",
      "terrorist", "unknown"),
    V("threat-actor-role", "agent", "director", "independent", "infrastructure-architect",
      "infrastructure-operator", "malware-author", "sponsor"),
    V("threat-actor-sophistication", "none", "minimal", "intermediate", "advanced", "expert",
      "innovator", "strategic"),
    V("tool-type", "denial-of-service", "exploitation", "information-gathering", "network-capture",
      "credential-exploitation", "remote-access", "vulnerability-scanning", "unknown"),
    V("account-type", "facebook", "ldap", "nis", "openid", "radius", "skype", "tacacs", "twitter",
      "unix", "windows-local", "windows-domain"),
    V("hash-algorithm", "MD5", "SHA-1", "SHA-256", "SHA-512", "SHA3-256", "SHA3-512", "SSDEEP",
      "TLSH"),
    /* closed */
    V("opinion", "strongly-disagree", "disagree", "neutral", "agree", "strongly-agree"),
    V("extension-type", "new-sdo", "new-sco", "new-sro", "property-extension",
      "toplevel-property-extension"),
    V("encryption-algorithm", "AES-256-GCM", "ChaCha20Poly1305", "mime-type-indicated"),
#undef V
};

static const struct vocab *find_vocab(const char *name)
{
    for (size_t i = 0; i < sizeof vocabs / sizeof *vocabs; i++)
        if (!strcmp(vocabs[i].name, name)) return &vocabs[i];
    return NULL;
}

static int vocab_has(const struct vocab *v, const char *s)
{
    for (const char *const *p = v->values; *p; p++)
        if (!strcmp(*p, s)) return 1;
    return 0;
}

/* ---- the walk ---- */

typedef struct ctx {
    const json_t *obj;
    const char *id;
    unsigned flags;
    pk_stix_report *rep;
    int errors;
    int oom;
    size_t known; /* properties of the object that a table defines */
} ctx;

static void issue(ctx *c, int warning, const char *property, const char *fmt, ...) PK_PRINTF(4, 5);

static void issue(ctx *c, int warning, const char *property, const char *fmt, ...)
{
    if (!warning) c->errors++;
    if (warning && (c->flags & PK_STIX_VAL_NO_WARNINGS)) return;
    pk_stix_report *r = c->rep;
    if (!r) return;
    if (r->n == r->cap) {
        size_t ncap = r->cap ? r->cap * 2 : 8;
        pk_stix_issue *nv = pk_realloc(r->v, ncap * sizeof *nv);
        if (!nv) {
            c->oom = 1;
            return;
        }
        r->v = nv;
        r->cap = ncap;
    }
    pk_stix_issue *is = &r->v[r->n++];
    is->warning = warning;
    pk_error_clear(&is->err);
    pk_error_object(&is->err, c->id, property);
    va_list ap;
    va_start(ap, fmt);
    pk_error_setv(&is->err, PK_EVALIDATE, fmt, ap);
    va_end(ap);
    if (warning)
        r->warnings++;
    else
        r->errors++;
}

/* A short rendering of a value for "found ..." parts of messages. */
static void found(const json_t *v, char *out, size_t n)
{
    if (!v) {
        snprintf(out, n, "nothing");
        return;
    }
    switch (json_typeof(v)) {
    case JSON_STRING: {
        const char *s = json_string_value(v);
        size_t l = strlen(s);
        if (l > 60)
            snprintf(out, n, "\"%.57s...\"", s);
        else
            snprintf(out, n, "\"%s\"", s);
        return;
    }
    case JSON_OBJECT:
        snprintf(out, n, "an object");
        return;
    case JSON_ARRAY:
        snprintf(out, n, "a list of %zu", json_array_size(v));
        return;
    case JSON_INTEGER:
        snprintf(out, n, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return;
    case JSON_REAL:
        snprintf(out, n, "%g", json_real_value(v));
        return;
    case JSON_TRUE:
        snprintf(out, n, "true");
        return;
    case JSON_FALSE:
        snprintf(out, n, "false");
        return;
    case JSON_NULL:
        snprintf(out, n, "null");
        return;
    }
}

static int ts_ok(const char *s, pk_time *t)
{
    return pk_time_parse(s, strlen(s), PK_TIME_STIX, t, NULL) == PK_OK;
}

static int type_in(const char *types_list, const char *t)
{
    size_t tl = strlen(t);
    const char *p = types_list;
    while (*p) {
        const char *e = strchr(p, ' ');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l == tl && !memcmp(p, t, l)) return 1;
        if (!e) break;
        p = e + 1;
    }
    return 0;
}

static void check_id(ctx *c, const char *path, const json_t *v, const char *allowed)
{
    char f[80];
    const char *s = json_string_value(v);
    if (!s || !pk_stix_id_ok(s, NULL)) {
        found(v, f, sizeof f);
        issue(c, 0, path, "expected an identifier (type--UUID), found %s", f);
        return;
    }
    char t[251];
    pk_stix_id_type(s, t, sizeof t);
    if (allowed && !type_in(allowed, t))
        issue(c, 0, path, "expected an identifier of type %s, found one of type %s", allowed, t);
    const char *u = strstr(s, "--") + 2;
    for (; *u; u++)
        if (*u >= 'A' && *u <= 'F') {
            issue(c, 1, path, "identifier has upper-case hex digits; STIX ids are lower-case");
            break;
        }
}

static void check_string_item(ctx *c, const char *path, const json_t *v, const prop *p)
{
    char f[80];
    if (!json_is_string(v)) {
        found(v, f, sizeof f);
        issue(c, 0, path, "expected a string, found %s", f);
        return;
    }
    if (p->kind == K_OV || p->kind == K_OVS || p->kind == K_ENUM || p->kind == K_ENUMS) {
        const struct vocab *vo = find_vocab(p->arg);
        int closed = p->kind == K_ENUM || p->kind == K_ENUMS;
        if (vo && !vocab_has(vo, json_string_value(v))) {
            found(v, f, sizeof f);
            if (closed)
                issue(c, 0, path, "expected a value of %s (a closed vocabulary), found %s", p->arg,
                      f);
            else
                issue(c, !(c->flags & PK_STIX_VAL_STRICT_VOCAB), path,
                      "%s is not in the %s-ov vocabulary", f, p->arg);
        }
    }
}

static void check_kcp(ctx *c, const char *path, const json_t *v)
{
    char f[80], sub[200];
    if (!json_is_array(v)) {
        found(v, f, sizeof f);
        issue(c, 0, path, "expected a list of kill-chain phases, found %s", f);
        return;
    }
    for (size_t i = 0; i < json_array_size(v); i++) {
        json_t *e = json_array_get(v, i);
        snprintf(sub, sizeof sub, "%s[%zu]", path, i);
        if (!json_is_object(e)) {
            found(e, f, sizeof f);
            issue(c, 0, sub, "expected a kill-chain phase object, found %s", f);
            continue;
        }
        static const char *const req[] = {"kill_chain_name", "phase_name"};
        for (int k = 0; k < 2; k++) {
            json_t *x = json_object_get(e, req[k]);
            if (!json_is_string(x)) {
                char sp[240];
                snprintf(sp, sizeof sp, "%s.%s", sub, req[k]);
                found(x, f, sizeof f);
                issue(c, 0, sp, "expected a string (required), found %s", f);
            }
        }
    }
}

static void check_hashes(ctx *c, const char *path, const json_t *v)
{
    char f[80], sub[240];
    if (!json_is_object(v) || json_object_size(v) == 0) {
        found(v, f, sizeof f);
        issue(c, 0, path, "expected a non-empty hashes dictionary, found %s", f);
        return;
    }
    const char *k;
    json_t *x;
    const struct vocab *hv = find_vocab("hash-algorithm");
    json_object_foreach((json_t *)v, k, x)
    {
        snprintf(sub, sizeof sub, "%s.%s", path, k);
        if (!json_is_string(x)) {
            found(x, f, sizeof f);
            issue(c, 0, sub, "expected a hash value string, found %s", f);
        } else if (!vocab_has(hv, k) && strncmp(k, "x_", 2) != 0) {
            issue(c, 1, sub, "\"%s\" is not in the hash-algorithm-ov vocabulary", k);
        }
    }
}

static void check_extrefs(ctx *c, const char *path, const json_t *v)
{
    char f[80], sub[200], sp[240];
    if (!json_is_array(v)) {
        found(v, f, sizeof f);
        issue(c, 0, path, "expected a list of external references, found %s", f);
        return;
    }
    for (size_t i = 0; i < json_array_size(v); i++) {
        json_t *e = json_array_get(v, i);
        snprintf(sub, sizeof sub, "%s[%zu]", path, i);
        if (!json_is_object(e)) {
            found(e, f, sizeof f);
            issue(c, 0, sub, "expected an external reference object, found %s", f);
            continue;
        }
        json_t *sn = json_object_get(e, "source_name");
        if (!json_is_string(sn)) {
            snprintf(sp, sizeof sp, "%s.source_name", sub);
            found(sn, f, sizeof f);
            issue(c, 0, sp, "expected a string (required), found %s", f);
        }
        static const char *const strs[] = {"description", "url", "external_id"};
        for (int k = 0; k < 3; k++) {
            json_t *x = json_object_get(e, strs[k]);
            if (x && !json_is_string(x)) {
                snprintf(sp, sizeof sp, "%s.%s", sub, strs[k]);
                found(x, f, sizeof f);
                issue(c, 0, sp, "expected a string, found %s", f);
            }
        }
        json_t *h = json_object_get(e, "hashes");
        if (h) {
            snprintf(sp, sizeof sp, "%s.hashes", sub);
            check_hashes(c, sp, h);
        }
    }
}

/* Does a granular-marking selector name a property that is present? */
static int selector_ok(const json_t *obj, const char *sel)
{
    const json_t *cur = obj;
    char part[256];
    const char *p = sel;
    while (*p) {
        const char *e = strchr(p, '.');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l == 0 || l >= sizeof part) return 0;
        memcpy(part, p, l);
        part[l] = '\0';
        if (part[0] == '[' && part[l - 1] == ']') {
            char *end;
            long idx = strtol(part + 1, &end, 10);
            if (end != part + l - 1 || idx < 0 || !json_is_array(cur)) return 0;
            cur = json_array_get(cur, (size_t)idx);
        } else {
            if (!json_is_object(cur)) return 0;
            cur = json_object_get(cur, part);
        }
        if (!cur) return 0;
        p = e ? e + 1 : p + l;
    }
    return 1;
}

static void check_gran(ctx *c, const char *path, const json_t *v)
{
    char f[80], sub[200], sp[240];
    if (!json_is_array(v)) {
        found(v, f, sizeof f);
        issue(c, 0, path, "expected a list of granular markings, found %s", f);
        return;
    }
    for (size_t i = 0; i < json_array_size(v); i++) {
        json_t *g = json_array_get(v, i);
        snprintf(sub, sizeof sub, "%s[%zu]", path, i);
        if (!json_is_object(g)) {
            found(g, f, sizeof f);
            issue(c, 0, sub, "expected a granular marking object, found %s", f);
            continue;
        }
        json_t *mr = json_object_get(g, "marking_ref"), *lang = json_object_get(g, "lang");
        if (!mr && !lang)
            issue(c, 0, sub, "expected marking_ref or lang, found neither");
        else if (mr && lang)
            issue(c, 0, sub, "expected marking_ref or lang, found both");
        if (mr) {
            snprintf(sp, sizeof sp, "%s.marking_ref", sub);
            check_id(c, sp, mr, "marking-definition");
        }
        json_t *sels = json_object_get(g, "selectors");
        snprintf(sp, sizeof sp, "%s.selectors", sub);
        if (!json_is_array(sels) || json_array_size(sels) == 0) {
            found(sels, f, sizeof f);
            issue(c, 0, sp, "expected a non-empty list of selectors (required), found %s", f);
            continue;
        }
        for (size_t k = 0; k < json_array_size(sels); k++) {
            const char *s = json_string_value(json_array_get(sels, k));
            char sk[300];
            snprintf(sk, sizeof sk, "%s[%zu]", sp, k);
            if (!s)
                issue(c, 0, sk, "expected a selector string");
            else if (!selector_ok(c->obj, s))
                issue(c, 0, sk, "selector \"%s\" does not name a property of this object", s);
        }
    }
}

static void check_value(ctx *c, const char *path, const json_t *v, const prop *p)
{
    char f[80], sub[240];
    pk_time t;
    switch (p->kind) {
    case K_STR:
    case K_OV:
    case K_ENUM:
    case K_LANG:
        check_string_item(c, path, v, p);
        break;
    case K_BIN:
    case K_HEX:
        check_string_item(c, path, v, p);
        if (json_is_string(v)) {
            const char *s = json_string_value(v);
            for (; *s; s++) {
                int ok = p->kind == K_HEX
                             ? ((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f') ||
                                (*s >= 'A' && *s <= 'F'))
                             : ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
                                (*s >= '0' && *s <= '9') || *s == '+' || *s == '/' || *s == '=');
                if (!ok) {
                    issue(c, 0, path, "expected %s, found the character '%c'",
                          p->kind == K_HEX ? "hex digits" : "base64", *s);
                    break;
                }
            }
        }
        break;
    case K_TS:
        if (!json_is_string(v) || !ts_ok(json_string_value(v), &t)) {
            found(v, f, sizeof f);
            issue(c, 0, path, "expected a timestamp YYYY-MM-DDTHH:MM:SS[.s+]Z, found %s", f);
        }
        break;
    case K_ID:
        check_id(c, path, v, p->arg);
        break;
    case K_IDS:
    case K_STRS:
    case K_OVS:
    case K_ENUMS:
        if (!json_is_array(v) || json_array_size(v) == 0) {
            found(v, f, sizeof f);
            issue(c, 0, path, "expected a non-empty list, found %s", f);
            break;
        }
        for (size_t i = 0; i < json_array_size(v); i++) {
            snprintf(sub, sizeof sub, "%s[%zu]", path, i);
            if (p->kind == K_IDS)
                check_id(c, sub, json_array_get(v, i), p->arg);
            else
                check_string_item(c, sub, json_array_get(v, i), p);
        }
        break;
    case K_INT:
        if (!json_is_integer(v)) {
            found(v, f, sizeof f);
            issue(c, 0, path, "expected an integer, found %s", f);
        } else if (p->arg) {
            long long lo, hi, x = json_integer_value(v);
            char *e;
            lo = strtoll(p->arg, &e, 10);
            hi = strtoll(e, NULL, 10);
            if (x < lo || (hi >= 0 && x > hi)) {
                if (hi >= 0)
                    issue(c, 0, path, "expected an integer from %lld to %lld, found %lld", lo, hi,
                          x);
                else
                    issue(c, 0, path, "expected an integer of at least %lld, found %lld", lo, x);
            }
        }
        break;
    case K_NUM:
        if (!json_is_number(v)) {
            found(v, f, sizeof f);
            issue(c, 0, path, "expected a number, found %s", f);
        } else if (p->arg) {
            double lo, hi, x = json_number_value(v);
            char *e;
            lo = strtod(p->arg, &e);
            hi = strtod(e, NULL);
            if (x < lo || x > hi)
                issue(c, 0, path, "expected a number from %g to %g, found %g", lo, hi, x);
        }
        break;
    case K_BOOL:
        if (!json_is_boolean(v)) {
            found(v, f, sizeof f);
            issue(c, 0, path, "expected true or false, found %s", f);
        }
        break;
    case K_HASHES:
        check_hashes(c, path, v);
        break;
    case K_KCP:
        check_kcp(c, path, v);
        break;
    case K_EXTREFS:
        check_extrefs(c, path, v);
        break;
    case K_GRAN:
        check_gran(c, path, v);
        break;
    case K_DICT:
    case K_EXTS:
        if (!json_is_object(v)) {
            found(v, f, sizeof f);
            issue(c, 0, path, "expected a dictionary (JSON object), found %s", f);
        } else if (p->kind == K_EXTS) {
            const char *k;
            json_t *x;
            json_object_foreach((json_t *)v, k, x)
            {
                snprintf(sub, sizeof sub, "%s.%s", path, k);
                if (!json_is_object(x)) issue(c, 0, sub, "expected an extension object");
                if (!strncmp(k, "extension-definition--", 22) && !pk_stix_id_ok(k, NULL))
                    issue(c, 0, sub, "expected an extension-definition identifier as the key");
            }
        }
        break;
    case K_LIST:
        if (!json_is_array(v)) {
            found(v, f, sizeof f);
            issue(c, 0, path, "expected a list, found %s", f);
        }
        break;
    case K_ANY:
        break;
    }
}

static const prop *find_prop(const prop *t, const char *name)
{
    for (; t && t->name; t++)
        if (!strcmp(t->name, name)) return t;
    return NULL;
}

static void check_table(ctx *c, const prop *t)
{
    char f[80];
    for (; t->name; t++) {
        json_t *v = json_object_get(c->obj, t->name);
        if (!v) {
            if (t->required) issue(c, 0, t->name, "required property is missing");
            continue;
        }
        c->known++;
        if (json_is_null(v)) {
            found(v, f, sizeof f);
            issue(c, 0, t->name, "expected a value, found null (omit the property instead)");
            continue;
        }
        check_value(c, t->name, v, t);
    }
}

static int prop_name_ok(const char *k)
{
    size_t n = strlen(k);
    if (n < 3 || n > 250) return 0;
    for (; *k; k++)
        if (!((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') || (*k >= '0' && *k <= '9') ||
              *k == '_'))
            return 0;
    return 1;
}

static const struct type_def *find_type(const char *t)
{
    for (size_t i = 0; i < sizeof types / sizeof *types; i++)
        if (!strcmp(types[i].type, t)) return &types[i];
    return NULL;
}

/* Rules that tie properties together. */
static void check_rules(ctx *c, const char *type)
{
    const json_t *o = c->obj;
    pk_time a, b;
    const char *cr = pk_stix_str(o, "created"), *mo = pk_stix_str(o, "modified");
    if (cr && mo && ts_ok(cr, &a) && ts_ok(mo, &b) && pk_time_cmp(&b, &a) < 0)
        issue(c, 0, "modified", "expected a time at or after created (%s), found %s", cr, mo);
    static const char *const ms[] = {"created", "modified"};
    for (int i = 0; i < 2; i++) {
        const char *s = pk_stix_str(o, ms[i]);
        if (s && ts_ok(s, &a) && a.digits < 3)
            issue(c, 0, ms[i], "expected at least millisecond precision (e.g. .000Z), found \"%s\"",
                  s);
    }
    static const char *const pairs[][2] = {{"first_seen", "last_seen"},
                                           {"first_observed", "last_observed"},
                                           {"valid_from", "valid_until"},
                                           {"start_time", "stop_time"}};
    for (size_t i = 0; i < sizeof pairs / sizeof *pairs; i++) {
        const char *x = pk_stix_str(o, pairs[i][0]), *y = pk_stix_str(o, pairs[i][1]);
        if (x && y && ts_ok(x, &a) && ts_ok(y, &b)) {
            int cmp = pk_time_cmp(&b, &a);
            int strict = !strcmp(pairs[i][0], "valid_from") || !strcmp(pairs[i][0], "start_time");
            if (cmp < 0 || (strict && cmp == 0))
                issue(c, 0, pairs[i][1], "expected a time %s %s (%s), found %s",
                      strict ? "after" : "at or after", pairs[i][0], x, y);
        }
    }
    if (!strcmp(type, "malware")) {
        if (json_is_true(json_object_get(o, "is_family")) && !json_object_get(o, "name"))
            issue(c, 0, "name", "required when is_family is true, but missing");
    } else if (!strcmp(type, "location")) {
        int lat = json_object_get(o, "latitude") != NULL,
            lon = json_object_get(o, "longitude") != NULL;
        if (lat != lon)
            issue(c, 0, lat ? "longitude" : "latitude", "latitude and longitude go together");
        if (!json_object_get(o, "region") && !json_object_get(o, "country") && !(lat && lon))
            issue(c, 0, "region", "expected region, country, or latitude and longitude");
    } else if (!strcmp(type, "observed-data")) {
        int has_o = json_object_get(o, "objects") != NULL,
            has_r = json_object_get(o, "object_refs") != NULL;
        if (has_o == has_r)
            issue(c, 0, "object_refs", "expected exactly one of object_refs and objects, found %s",
                  has_o ? "both" : "neither");
        else if (has_o)
            issue(c, 1, "objects", "deprecated in STIX 2.1; use object_refs");
    } else if (!strcmp(type, "file")) {
        if (!json_object_get(o, "hashes") && !json_object_get(o, "name"))
            issue(c, 0, "hashes", "expected hashes or name, found neither");
    } else if (!strcmp(type, "malware-analysis")) {
        if (!json_object_get(o, "result") && !json_object_get(o, "analysis_sco_refs"))
            issue(c, 0, "result", "expected result or analysis_sco_refs, found neither");
    } else if (!strcmp(type, "marking-definition")) {
        int dt = json_object_get(o, "definition_type") != NULL,
            d = json_object_get(o, "definition") != NULL;
        if (dt != d)
            issue(c, 0, dt ? "definition" : "definition_type",
                  "definition_type and definition go together");
        const char *id = pk_stix_str(o, "id");
        const char *dts = pk_stix_str(o, "definition_type");
        if (dts && !strcmp(dts, "tlp") && id && pk_stix_tlp_of(id) == PK_TLP_NONE)
            issue(c, 1, "id", "a TLP marking-definition that is not one of the predefined ids");
        if (!dt && !json_object_get(o, "extensions"))
            issue(c, 0, "definition_type",
                  "expected definition_type and definition, or extensions");
    } else if (!strcmp(type, "extension-definition") || !strcmp(type, "language-content")) {
        if (!strcmp(type, "extension-definition") && !json_object_get(o, "created_by_ref"))
            issue(c, 0, "created_by_ref", "required property is missing");
    }
    if (pk_stix_type_kind(type) == PK_STIX_SCO) {
        const char *id = pk_stix_str(o, "id");
        char want[PK_STIX_ID_MAX];
        if (id && pk_stix_id_ok(id, type) && pk_stix_sco_id(o, want, NULL) == PK_OK) {
            pk_uuid u;
            const char *us = strstr(id, "--") + 2;
            if (pk_uuid_parse(us, strlen(us), &u) == PK_OK && pk_uuid_version(&u) == 5 &&
                strcmp(want, id) != 0)
                issue(c, 1, "id",
                      "a UUIDv5 that is not the deterministic id of this object (expected %s)",
                      want);
        }
    }
}

pk_status pk_stix_validate(const json_t *obj, unsigned flags, pk_stix_report *rep)
{
    ctx c = {obj, NULL, flags, rep, 0, 0, 0};
    char f[80];
    if (!json_is_object(obj)) {
        found(obj, f, sizeof f);
        issue(&c, 0, "", "expected a STIX object (a JSON object), found %s", f);
        return c.oom ? PK_ENOMEM : PK_EVALIDATE;
    }
    c.id = pk_stix_str(obj, "id");
    const char *type = pk_stix_str(obj, "type");
    if (!type) {
        found(json_object_get(obj, "type"), f, sizeof f);
        issue(&c, 0, "type", "expected a type name string (required), found %s", f);
        return c.oom ? PK_ENOMEM : PK_EVALIDATE;
    }
    pk_stix_kind kind = pk_stix_type_kind(type);
    if (kind == PK_STIX_UNKNOWN) {
        issue(&c, 0, "type",
              "expected a type name of 3-250 characters a-z, 0-9 and '-', found \"%.60s\"", type);
        return c.oom ? PK_ENOMEM : PK_EVALIDATE;
    }
    if (kind == PK_STIX_BUNDLE) {
        issue(&c, 0, "type", "a bundle inside a bundle is not allowed");
        return c.oom ? PK_ENOMEM : PK_EVALIDATE;
    }
    const json_t *idv = json_object_get(obj, "id");
    if (idv && json_is_string(idv) && pk_stix_id_ok(c.id, NULL) && !pk_stix_id_ok(c.id, type)) {
        char t[251];
        pk_stix_id_type(c.id, t, sizeof t);
        issue(&c, 0, "id", "expected an identifier starting with \"%s--\", found type %s", type, t);
    }
    const struct type_def *td = find_type(type);
    const prop *common = kind == PK_STIX_SCO ? common_sco : common_sdo;
    if (kind == PK_STIX_META && !strcmp(type, "marking-definition")) common = NULL;
    if (kind == PK_STIX_CUSTOM) {
        /* A custom object: the common properties of an SDO if it looks like
         * one, of an SCO otherwise; its own properties are its business. */
        common = json_object_get(obj, "created") || json_object_get(obj, "modified") ||
                         json_object_get(obj, "created_by_ref")
                     ? common_sdo
                     : common_sco;
    }
    if (common) check_table(&c, common);
    if (td) check_table(&c, td->props);
    const char *sv = pk_stix_str(obj, "spec_version");
    if (sv && strcmp(sv, "2.1") != 0)
        issue(&c, 0, "spec_version", "expected \"2.1\", found \"%.20s\" (convert 2.0 with import)",
              sv);
    check_rules(&c, type);
    /* Properties no table knows: custom ones, kept. */
    const char *k;
    json_t *v;
    if (c.known < json_object_size(obj)) json_object_foreach((json_t *)obj, k, v)
        {
            if (find_prop(common, k) || (td && find_prop(td->props, k))) continue;
            if (!prop_name_ok(k))
                issue(&c, 0, k, "expected a property name of 3-250 characters a-z, A-Z, 0-9 and _");
            else if (td && strncmp(k, "x_", 2) != 0)
                issue(&c, 1, k, "not a property of %s (kept as a custom property)", type);
        }
    if (c.oom) return PK_ENOMEM;
    return c.errors ? PK_EVALIDATE : PK_OK;
}

/* ---- 2.0 -> 2.1 ---- */

int pk_stix_is_20(const json_t *obj, const char *bundle_spec_version)
{
    if (json_object_get(obj, "spec_version")) return 0;
    if (bundle_spec_version && !strcmp(bundle_spec_version, "2.0")) return 1;
    pk_stix_kind k = pk_stix_type_kind(pk_stix_str(obj, "type"));
    if (k == PK_STIX_SCO) return 0;
    return json_object_get(obj, "created") != NULL;
}

static pk_status pad_ms(json_t *obj, const char *name, unsigned *changes)
{
    const char *s = pk_stix_str(obj, name);
    pk_time t;
    if (!s || pk_time_parse(s, strlen(s), PK_TIME_STIX, &t, NULL) != PK_OK || t.digits >= 3)
        return PK_OK;
    char out[PK_TIME_STRLEN];
    pk_time_format(&t, 3, out);
    if (json_object_set_new(obj, name, json_string(out))) return PK_ENOMEM;
    *changes |= PK_STIX_UP_TIMESTAMPS;
    return PK_OK;
}

pk_status pk_stix_upgrade(json_t *obj, unsigned *changes)
{
    *changes = 0;
    if (!json_is_object(obj) || json_object_get(obj, "spec_version")) return PK_OK;
    const char *type = pk_stix_str(obj, "type");
    if (!type) return PK_OK;
    pk_stix_kind k = pk_stix_type_kind(type);
    /* Rebuild so that spec_version follows type and the rest keeps its order. */
    json_t *copy = json_object();
    if (!copy) return PK_ENOMEM;
    const char *key;
    json_t *v;
    int fail = 0;
    json_object_foreach(obj, key, v)
    {
        fail |= json_object_set(copy, key, v);
        if (!strcmp(key, "type"))
            fail |= json_object_set_new(copy, "spec_version", json_string("2.1"));
    }
    if (!fail) fail |= json_object_clear(obj) || json_object_update(obj, copy);
    json_decref(copy);
    if (fail) return PK_ENOMEM;
    *changes |= PK_STIX_UP_SPEC_VERSION;
    if (!strcmp(type, "indicator") && !json_object_get(obj, "pattern_type")) {
        if (json_object_set_new(obj, "pattern_type", json_string("stix"))) return PK_ENOMEM;
        *changes |= PK_STIX_UP_PATTERN_TYPE;
    }
    if (!strcmp(type, "malware") && !json_object_get(obj, "is_family")) {
        if (json_object_set_new(obj, "is_family", json_true())) return PK_ENOMEM;
        *changes |= PK_STIX_UP_IS_FAMILY;
    }
    if (k != PK_STIX_SCO) {
        pk_status s = pad_ms(obj, "created", changes);
        if (!s) s = pad_ms(obj, "modified", changes);
        if (s) return s;
    }
    return PK_OK;
}
