"""The mistakes a new user makes: bad configs and bad command lines, each with the phrase its message must contain.

Every case must end in exit 2 with that phrase, no traceback and nothing written (`test_first_hour_corpus.py`).
A config case is a base config with one edit (`old` → `new`), or a whole text (or bytes) of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

SNOW = """\
store: sqlite:///udc.db
connectors:
  snow:
    type: servicenow
    instance_url: https://acme.service-now.com
    auth: {type: basic, username: svc_udc, password: env:SNOW_PASSWORD}
pipelines:
  p:
    connector: snow
    mode: historical
    start_date: 2025-01-01
    batch_size: 1000
    frequency: 2m
    request_timeout: 60
    tables:
      - name: incident
        fields: [number, short_description]
      - cmdb_ci_server
"""

JIRA = """\
connectors:
  jira:
    type: jira
    deployment: cloud
    base_url: https://acme.atlassian.net
    auth: {type: basic, username: me@acme.com, password: env:JIRA_TOKEN}
pipelines:
  p:
    connector: jira
    mode: incremental
    jql: project = OPS
    tables: [issues, comments]
"""

SALESFORCE = """\
connectors:
  sf:
    type: salesforce
    instance_url: https://acme.my.salesforce.com
    auth: {type: oauth_client_credentials, client_id: env:SF_ID, client_secret: env:SF_SECRET}
pipelines:
  p:
    connector: sf
    objects: [Case, Account]
"""

CONFLUENCE = """\
connectors:
  wiki:
    type: confluence
    deployment: cloud
    base_url: https://acme.atlassian.net
    auth: {type: basic, username: svc@acme.com, password: env:CONFLUENCE_TOKEN}
pipelines:
  kb:
    connector: wiki
    mode: incremental
    space_keys: [OPS, ENG]
    tables: [pages, comments]
"""

REST = """\
connectors:
  pd:
    type: rest
    base_url: https://api.pagerduty.com
    auth: {type: api_key, header: Authorization, value: "Token token=${env:PD_TOKEN}"}
pipelines:
  p:
    connector: pd
    mode: incremental
    tables:
      - name: incidents
        path: /incidents
        records: incidents
        primary_key: id
        cursor: {field: updated_at, format: iso8601}
        order: cursor
        window: {start_param: since, end_param: until}
        paginator: {type: offset, offset_param: offset, limit_param: limit, has_more: more}
      - name: log_entries
        path: /incidents/{parent.id}/log_entries
        parent: incidents
        records: log_entries
        paginator: {type: offset, has_more: more}
"""

BASES = {"snow": SNOW, "jira": JIRA, "sf": SALESFORCE, "wiki": CONFLUENCE, "rest": REST}
ENV = {"SNOW_PASSWORD": "s3cret-pw", "JIRA_TOKEN": "jira-t0ken", "SF_ID": "sf-client-id", "SF_SECRET": "sf-s3cret",
       "CONFLUENCE_TOKEN": "wiki-t0ken", "PD_TOKEN": "pd-t0ken", "EMPTY_SECRET": "", "SHORT_KEY": "k3y-7"}


@dataclass(frozen=True)
class Bad:
    id: str
    phrase: str
    base: str = "snow"
    old: str = ""
    new: str = ""
    text: str | bytes | None = None  # the whole file instead of an edit

    def content(self) -> str | bytes:
        if self.text is not None:
            return self.text
        base = BASES[self.base]
        assert self.old in base, f"{self.id}: {self.old!r} is not in the {self.base} base"
        return base.replace(self.old, self.new, 1)


def deep(depth: int, open_: str, close: str) -> str:
    return "x: " + open_ * depth + close * depth + "\n"


CONFIGS: list[Bad] = [
    # -- the file itself ---------------------------------------------------------------------------------------------
    Bad("empty-file", "is empty", text=""),
    Bad("comments-only", "is empty", text="# connectors come later\n# pipelines too\n"),
    Bad("document-marker-only", "is empty", text="---\n"),
    Bad("not-utf8", "not UTF-8", text=SNOW.replace("svc_udc", "svc_é").encode("latin-1")),
    Bad("utf16-bom", "UTF-16", text=SNOW.encode("utf-16")),
    Bad("utf16-no-bom", "UTF-16", text=SNOW.encode("utf-16-le")),
    Bad("deep-list", "nested too deeply", text=deep(5000, "[", "]")),
    Bad("deep-mapping", "nested too deeply", text=deep(5000, "{a: ", "}")),
    Bad("two-documents", "another document", text=SNOW + "---\n" + SNOW),
    Bad("top-level-list", "top level must be a mapping", text="- connectors\n- pipelines\n"),
    Bad("top-level-scalar", "top level must be a mapping", text="hello\n"),
    # -- YAML ---------------------------------------------------------------------------------------------------------
    Bad("tab-indent", "invalid YAML", old="    connector: snow", new="\tconnector: snow"),
    Bad("unclosed-bracket", "invalid YAML", old="[number, short_description]", new="[number, short_description"),
    Bad("unclosed-quote", "invalid YAML", old="username: svc_udc", new='username: "svc_udc'),
    Bad("bad-indent", "invalid YAML", old="    mode: historical", new="      mode: historical\n    x: 1"),
    Bad("duplicate-key", "'batch_size' is given twice", old="    batch_size: 1000\n",
        new="    batch_size: 500\n    batch_size: 0\n"),
    Bad("duplicate-pipeline", "'p' is given twice", old="pipelines:\n  p:\n",
        new="pipelines:\n  p:\n    connector: snow\n    tables: [incident]\n  p:\n"),
    Bad("duplicate-connector", "'snow' is given twice", old="connectors:\n",
        new="connectors:\n  snow: {type: servicenow, instance_url: https://a.service-now.com, "
            "auth: {type: bearer, token: env:SNOW_PASSWORD}}\n"),
    Bad("duplicate-table-key", "'name' is given twice", old="      - name: incident\n",
        new="      - name: incident\n        name: problem\n"),
    Bad("null-key", "not a name", old="    mode: historical", new="    mode: historical\n    null: 1"),
    Bad("tilde-key", "not a name", old="    mode: historical", new="    mode: historical\n    ~: 1"),
    Bad("integer-pipeline-name", "not a name", old="pipelines:\n  p:", new="pipelines:\n  1:"),
    Bad("boolean-key", "not a name", old="    mode: historical", new="    mode: historical\n    yes: 1"),
    Bad("impossible-date-feb-30", "'2025-02-30' is not a real date", old="2025-01-01", new="2025-02-30"),
    Bad("impossible-date-month-13", "'2025-13-01' is not a real date", old="2025-01-01", new="2025-13-01"),
    Bad("not-leap-year", "'2025-02-29' is not a real date", old="2025-01-01", new="2025-02-29"),
    Bad("impossible-datetime", "is not a real date", old="2025-01-01", new="2025-01-01T25:00:00Z"),
    # -- top level ----------------------------------------------------------------------------------------------------
    Bad("connectors-list", "connectors", old="connectors:\n  snow:\n", new="connectors:\n- snow:\n"),
    Bad("pipelines-list", "pipelines", old="pipelines:\n  p:\n", new="pipelines:\n- p:\n"),
    Bad("store-int", "store", old="store: sqlite:///udc.db", new="store: 5"),
    Bad("store-mysql", "store", old="store: sqlite:///udc.db", new="store: mysql://localhost/udc"),
    Bad("store-postgres-password", "a password in the store URL", old="store: sqlite:///udc.db",
        new="store: postgresql://udc:hunter22@localhost/udc"),
    Bad("store-postgres-no-database", "names no database", old="store: sqlite:///udc.db",
        new="store: postgresql://udc@localhost"),
    Bad("store-missing-folder", "does not exist", old="sqlite:///udc.db", new="sqlite:///no/such/folder/udc.db"),
    Bad("store-is-folder", "is a folder", old="sqlite:///udc.db", new="sqlite:///."),
    Bad("unknown-top-key", "did you mean 'pipelines'", old="pipelines:", new="pipeline:"),
    Bad("store-only", "no connectors are defined", text="store: sqlite:///udc.db\n"),
    # -- connectors ---------------------------------------------------------------------------------------------------
    Bad("connector-type-typo", "connectors.snow", old="type: servicenow", new="type: servicenoww"),
    Bad("connector-type-missing", "connectors.snow", old="    type: servicenow\n", new=""),
    Bad("instance-url-missing", "'connectors.snow.instance_url' is required",
        old="    instance_url: https://acme.service-now.com\n", new=""),
    Bad("instance-url-not-a-url", "not a web address", old="https://acme.service-now.com", new="not a url"),
    Bad("instance-url-empty", "not a web address", old="https://acme.service-now.com", new="''"),
    Bad("instance-url-ftp", "not a web address", old="https://acme.service-now.com", new="ftp://acme.example.com"),
    Bad("instance-url-no-host", "not a web address", old="https://acme.service-now.com", new="https://"),
    Bad("instance-url-bad-port", "instance_url", old="https://acme.service-now.com",
        new="https://acme.service-now.com:99999"),
    Bad("instance-url-int", "valid string", old="https://acme.service-now.com", new="12345"),
    Bad("instance-url-typo", "did you mean 'instance_url'", old="instance_url:", new="instance_ur:"),
    Bad("auth-missing", "'connectors.snow.auth' is required",
        old="    auth: {type: basic, username: svc_udc, password: env:SNOW_PASSWORD}\n", new=""),
    Bad("auth-type-typo", "connectors.snow.auth", old="type: basic", new="type: basik"),
    Bad("auth-password-missing", "'connectors.snow.auth.password' is required",
        old=", password: env:SNOW_PASSWORD", new=""),
    Bad("auth-username-missing", "'connectors.snow.auth.username' is required", old="username: svc_udc, ", new=""),
    Bad("env-not-set", "environment variable NOT_SET_ANYWHERE is not set", old="env:SNOW_PASSWORD",
        new="env:NOT_SET_ANYWHERE"),
    Bad("env-without-name", "`env:` needs the name of an environment variable", old="env:SNOW_PASSWORD", new="'env:'"),
    Bad("env-set-empty", "the secret is empty", old="env:SNOW_PASSWORD", new="env:EMPTY_SECRET"),
    Bad("literal-empty-secret", "a secret is written in the file", old="env:SNOW_PASSWORD", new="''"),
    Bad("literal-secret", "snow.auth.password: a secret is written in the file", old="env:SNOW_PASSWORD",
        new="hunter2"),
    Bad("secret-file-missing", "cannot read secret file /no/such/secret", old="env:SNOW_PASSWORD",
        new="file:/no/such/secret"),
    Bad("secret-file-empty", "the secret is empty", old="env:SNOW_PASSWORD", new="file:/dev/null"),
    Bad("bearer-no-token", "'connectors.snow.auth.token' is required",
        old="{type: basic, username: svc_udc, password: env:SNOW_PASSWORD}", new="{type: bearer}"),
    Bad("oauth-password-no-client", "'connectors.snow.auth.client_id' is required",
        old="{type: basic, username: svc_udc, password: env:SNOW_PASSWORD}",
        new="{type: oauth_password, client_secret: env:SNOW_PASSWORD, username: u, password: env:SNOW_PASSWORD}"),
    Bad("token-url-not-a-url", "not a web address", old="{type: basic, username: svc_udc, password: env:SNOW_PASSWORD}",
        new="{type: oauth_password, client_id: env:SNOW_PASSWORD, client_secret: env:SNOW_PASSWORD, username: u, "
            "password: env:SNOW_PASSWORD, token_url: oauth}"),
    Bad("verify-tls-not-bool", "verify_tls", old="    type: servicenow\n",
        new="    type: servicenow\n    verify_tls: maybe\n"),
    Bad("connector-unknown-key", "unknown key 'connectors.snow.tables'", old="    type: servicenow\n",
        new="    type: servicenow\n    tables: [incident]\n"),
    Bad("connector-is-list", "connectors.snow", old="  snow:\n    type: servicenow\n",
        new="  snow:\n  - type: servicenow\n"),
    Bad("connector-null", "connectors.snow",
        text="connectors:\n  snow:\npipelines:\n  p: {connector: snow, tables: [incident]}\n"),
    Bad("username-list", "username", old="username: svc_udc", new="username: [svc, udc]"),
    Bad("connector-named-like-its-type", "udc.yaml:5: connectors.servicenow.instance_url: not a web address",
        text=SNOW.replace("  snow:", "  servicenow:").replace("connector: snow", "connector: servicenow")
        .replace("https://acme.service-now.com", "acme")),
    Bad("auth-named-basic-connector", "udc.yaml:6: connectors.basic.auth.password",
        text=SNOW.replace("  snow:", "  basic:").replace("connector: snow", "connector: basic")
        .replace("env:SNOW_PASSWORD", "env:NOT_SET_ANYWHERE")),
    # -- pipelines ----------------------------------------------------------------------------------------------------
    Bad("pipeline-connector-typo", "uses connector 'snwo', which is not defined (known: snow)",
        old="connector: snow", new="connector: snwo"),
    Bad("pipeline-connector-missing", "pipelines.p", old="    connector: snow\n", new=""),
    Bad("pipeline-is-list", "pipelines.p", old="  p:\n    connector: snow\n", new="  p:\n  - connector: snow\n"),
    Bad("pipeline-unknown-key", "did you mean 'batch_size'", old="batch_size:", new="batchsize:"),
    Bad("mode-typo", "mode", old="mode: historical", new="mode: historic"),
    Bad("batch-size-zero", "fix: make batch_size greater than 0", old="batch_size: 1000", new="batch_size: 0"),
    Bad("batch-size-negative", "greater than 0", old="batch_size: 1000", new="batch_size: -5"),
    Bad("batch-size-too-big", "less than or equal to 10000", old="batch_size: 1000", new="batch_size: 10001"),
    Bad("batch-size-true", "true is not a number", old="batch_size: 1000", new="batch_size: true"),
    Bad("batch-size-word", "fix: make batch_size a valid integer", old="batch_size: 1000", new="batch_size: lots"),
    Bad("batch-size-fraction", "valid integer", old="batch_size: 1000", new="batch_size: 1.5"),
    Bad("batch-size-huge-value", "characters)", old="batch_size: 1000", new="batch_size: " + "x" * 200_000),
    Bad("frequency-too-short", "frequency must be between 1m and 24h", old="frequency: 2m", new="frequency: 30s"),
    Bad("frequency-too-long", "frequency must be between 1m and 24h", old="frequency: 2m", new="frequency: 25h"),
    Bad("frequency-words", "is not a duration", old="frequency: 2m", new="frequency: 2 minutes"),
    Bad("frequency-bool", "frequency", old="frequency: 2m", new="frequency: true"),
    Bad("lag-negative", "is not a duration", old="frequency: 2m", new="lag: -5s"),
    Bad("start-date-word", "start_date", old="start_date: 2025-01-01", new="start_date: yesterday"),
    Bad("end-before-start", "end_date must be after start_date", old="    batch_size: 1000\n",
        new="    end_date: 2024-06-30\n    batch_size: 1000\n"),
    Bad("end-date-incremental", "end_date is for historical mode only", old="mode: historical",
        new="mode: incremental\n    end_date: 2025-06-30"),
    Bad("max-calls-zero", "greater than 0", old="request_timeout: 60", new="max_calls_per_minute: 0"),
    Bad("timeout-zero", "fix: make request_timeout greater than 0", old="request_timeout: 60",
        new="request_timeout: 0"),
    Bad("timeout-too-long", "less than or equal to 3600", old="request_timeout: 60", new="request_timeout: 99999"),
    Bad("timeout-true", "true is not a number", old="request_timeout: 60", new="request_timeout: true"),
    Bad("max-retries-negative", "greater than or equal to 0", old="request_timeout: 60", new="max_retries: -1"),
    Bad("retry-budget-yes", "true is not a number", old="request_timeout: 60", new="retry_budget: yes"),
    Bad("max-response-zero", "greater than 0", old="request_timeout: 60", new="max_response_mb: 0"),
    Bad("rate-timeout-zero", "greater than 0", old="request_timeout: 60", new="rate_limit_timeout_ms: 0"),
    Bad("rate-limit-false", "false is not a number", old="request_timeout: 60", new="rate_limit: false"),
    Bad("tables-empty", "the list is empty", old="    tables:\n      - name: incident\n        fields: "
        "[number, short_description]\n      - cmdb_ci_server\n", new="    tables: []\n"),
    Bad("tables-missing", "lists nothing to sync: add `tables:`", old="    tables:\n      - name: incident\n"
        "        fields: [number, short_description]\n      - cmdb_ci_server\n", new=""),
    Bad("tables-string", "tables", old="    tables:\n      - name: incident\n        fields: "
        "[number, short_description]\n      - cmdb_ci_server\n", new="    tables: incident\n"),
    Bad("table-twice", "incident listed more than once", old="      - cmdb_ci_server\n",
        new="      - cmdb_ci_server\n      - incident\n"),
    Bad("table-cyrillic", "cannot be a table name", old="      - cmdb_ci_server\n",
        new="      - prоblem_🔥\n"),
    Bad("table-space", "cannot be a table name", old="      - cmdb_ci_server\n", new="      - cmdb ci server\n"),
    Bad("table-upper-case", "'Incident' is not a valid ServiceNow table name", old="      - cmdb_ci_server\n",
        new="      - Incident\n"),
    Bad("table-empty-name", "cannot be a table name", old="      - cmdb_ci_server\n", new="      - ''\n"),
    Bad("table-int", "tables.1", old="      - cmdb_ci_server\n", new="      - 42\n"),
    Bad("table-key-typo", "did you mean 'filter'", old="        fields: [number, short_description]\n",
        new="        filtr: active=true\n"),
    Bad("table-fields-string", "fields", old="fields: [number, short_description]", new="fields: number"),
    Bad("table-name-missing", "'pipelines.p.tables.0.name' is required", old="      - name: incident\n",
        new="      - filter: active=true\n"),
    Bad("jql-on-servicenow", "sets options of another source type for its servicenow connector: jql (jira)",
        old="    batch_size: 1000\n", new="    batch_size: 1000\n    jql: project = OPS\n"),
    Bad("objects-on-servicenow", "objects (salesforce)", old="    batch_size: 1000\n",
        new="    batch_size: 1000\n    objects: [Case]\n"),
    Bad("pipeline-type-mismatch", "sets type 'jira'", old="    connector: snow\n",
        new="    connector: snow\n    type: jira\n"),
    Bad("redaction-no-key", "no redaction key is set", old="    batch_size: 1000\n",
        new="    batch_size: 1000\n    redaction: {enabled: true}\n"),
    Bad("redaction-short-key", "the redaction key is too short", old="    batch_size: 1000\n",
        new="    batch_size: 1000\n    redaction: {enabled: true, key: 'env:SHORT_KEY'}\n"),
    Bad("redaction-literal-key", "redaction.key: a secret is written in the file", old="    batch_size: 1000\n",
        new="    batch_size: 1000\n    redaction: {enabled: true, key: 0123456789abcdef-literal}\n"),
    Bad("redaction-key-env-missing", "NO_SUCH_KEY_VAR is not set", old="    batch_size: 1000\n",
        new="    batch_size: 1000\n    redaction: {enabled: true, key: 'env:NO_SUCH_KEY_VAR'}\n"),
    Bad("redaction-table-token-no-key", "no redaction key is set", old="    batch_size: 1000\n",
        new="    batch_size: 1000\n    redaction: {enabled: true, mode: mask, tables: {incident: {mode: token}}}\n"),
    Bad("redaction-unknown-entity", "unknown entity type 'EMAIL_ADRESS'", old="    batch_size: 1000\n",
        new="    batch_size: 1000\n    redaction: {enabled: true, mode: mask, entities: [EMAIL_ADRESS]}\n"),
    Bad("redaction-field-entity", "unknown entity type 'NOPE'", old="    batch_size: 1000\n",
        new="    batch_size: 1000\n    redaction: {enabled: true, mode: mask, tables: {incident: {fields: "
            "{description: {entities: [NOPE]}}}}}\n"),
    Bad("redaction-phone-region", "unknown region(s) XX", old="    batch_size: 1000\n",
        new="    batch_size: 1000\n    redaction: {enabled: true, mode: mask, phone_regions: [US, XX]}\n"),
    Bad("redaction-mode-typo", "redaction.mode", old="    batch_size: 1000\n",
        new="    batch_size: 1000\n    redaction: {enabled: true, mode: scramble}\n"),
    Bad("redaction-key-typo", "did you mean 'enabled'", old="    batch_size: 1000\n",
        new="    batch_size: 1000\n    redaction: {enable: true}\n"),
    Bad("redaction-enabled-word", "redaction.enabled", old="    batch_size: 1000\n",
        new="    batch_size: 1000\n    redaction: {enabled: sometimes}\n"),
    # -- Jira ---------------------------------------------------------------------------------------------------------
    Bad("jira-deployment", "udc.yaml:4: connectors.jira.deployment", base="jira", old="deployment: cloud",
        new="deployment: server"),
    Bad("jira-base-url-no-scheme", "not a web address", base="jira", old="https://acme.atlassian.net",
        new="acme.atlassian.net"),
    Bad("jira-base-url-missing", "'connectors.jira.base_url' is required", base="jira",
        old="    base_url: https://acme.atlassian.net\n", new=""),
    Bad("jira-changelog-word", "expand_changelog", base="jira", old="    jql: project = OPS\n",
        new="    jql: project = OPS\n    expand_changelog: often\n"),
    Bad("jira-tables-twice", "issues listed more than once", base="jira", old="[issues, comments]",
        new="[issues, comments, issues]"),
    Bad("jira-tables-empty", "the list is empty", base="jira", old="[issues, comments]", new="[]"),
    Bad("jira-unknown-table", "'bugs' is not a Jira table", base="jira", old="[issues, comments]",
        new="[issues, bugs]"),
    Bad("confluence-unknown-table", "'page' is not a Confluence table: did you mean 'pages'?", base="wiki",
        old="[pages, comments]", new="[page, comments]"),
    Bad("confluence-table-filter", "takes no filter or fields", base="wiki", old="[pages, comments]",
        new="[{name: pages, filter: 'space = OPS'}]"),
    Bad("confluence-deployment", "deployment", base="wiki", old="deployment: cloud", new="deployment: datacenter"),
    Bad("confluence-base-url", "base_url", base="wiki", old="https://acme.atlassian.net", new="acme wiki"),
    Bad("confluence-body-format", "body_format", base="wiki", old="    tables: [pages, comments]\n",
        new="    tables: [pages, comments]\n    body_format: html\n"),
    Bad("confluence-jql", "jql (jira)", base="wiki", old="    tables: [pages, comments]\n",
        new="    tables: [pages, comments]\n    jql: project = OPS\n"),
    Bad("jira-objects", "objects (salesforce)", base="jira", old="tables: [issues, comments]",
        new="objects: [issues]"),
    Bad("jira-jql-list", "jql", base="jira", old="jql: project = OPS", new="jql: [OPS]"),
    Bad("jira-fields-string", "fields", base="jira", old="    jql: project = OPS\n",
        new="    jql: project = OPS\n    fields: summary\n"),
    Bad("jira-pipeline-named-jira-batch", "udc.yaml:10: pipelines.jira.batch_size", base="jira",
        old="  p:\n    connector: jira\n", new="  jira:\n    connector: jira\n    batch_size: 0\n"),
    Bad("jira-token-empty", "the secret is empty", base="jira", old="env:JIRA_TOKEN", new="env:EMPTY_SECRET"),
    # -- Salesforce ---------------------------------------------------------------------------------------------------
    Bad("sf-http", "must start with https://", base="sf", old="https://acme.my.salesforce.com",
        new="http://acme.my.salesforce.com"),
    Bad("sf-login-url", "My Domain", base="sf", old="https://acme.my.salesforce.com",
        new="https://login.salesforce.com"),
    Bad("sf-objects-and-tables", "two names for the same list", base="sf", old="    objects: [Case, Account]\n",
        new="    objects: [Case, Account]\n    tables: [Case]\n"),
    Bad("sf-objects-empty", "the list is empty", base="sf", old="[Case, Account]", new="[]"),
    Bad("sf-objects-missing", "lists nothing to sync: add `objects:`", base="sf",
        old="    objects: [Case, Account]\n", new=""),
    Bad("sf-query-limit-zero", "Query limit cannot be set to 0", base="sf", old="    objects: [Case, Account]\n",
        new="    objects: [Case, Account]\n    query_limit: 0\n"),
    Bad("sf-api-share", "less than or equal to 1", base="sf", old="    objects: [Case, Account]\n",
        new="    objects: [Case, Account]\n    max_api_share: 2\n"),
    Bad("sf-api-share-true", "true is not a number", base="sf", old="    objects: [Case, Account]\n",
        new="    objects: [Case, Account]\n    max_api_share: true\n"),
    Bad("sf-object-dash", "cannot be a table name", base="sf", old="[Case, Account]", new="[Case, Case-Study]"),
    Bad("sf-object-bad-api-name", "not a valid Salesforce object API name", base="sf", old="[Case, Account]",
        new="[Case, Bad__Name__Thing__c]"),
    Bad("sf-field-path", "'Account..Name' is not a supported Salesforce field name", base="sf",
        old="objects: [Case, Account]", new="objects: [{name: Case, fields: [Subject, Account..Name]}]"),
    Bad("sf-cursor-name", "'Last Modified' is not a valid Salesforce field name", base="sf",
        old="    objects: [Case, Account]\n", new="    objects: [Case, Account]\n    cursor_field: Last Modified\n"),
    Bad("sf-basic-auth", "Salesforce uses auth type oauth_client_credentials", base="sf",
        old="{type: oauth_client_credentials, client_id: env:SF_ID, client_secret: env:SF_SECRET}",
        new="{type: basic, username: u, password: env:SF_SECRET}"),
    Bad("sf-api-version", "'sixty' is not a Salesforce API version", base="sf", old="    auth:",
        new="    api_version: sixty\n    auth:"),
    Bad("sf-object-twice", "Case listed more than once", base="sf", old="[Case, Account]", new="[Case, Case]"),
    Bad("sf-secret-empty", "the secret is empty", base="sf", old="env:SF_SECRET", new="env:EMPTY_SECRET"),
    Bad("sf-cursor-int", "cursor_field", base="sf", old="    objects: [Case, Account]\n",
        new="    objects: [Case, Account]\n    cursor_field: 5\n"),
    Bad("sf-jql", "jql (jira)", base="sf", old="    objects: [Case, Account]\n",
        new="    objects: [Case, Account]\n    jql: project = OPS\n"),
    # -- any REST API -------------------------------------------------------------------------------------------------
    Bad("rest-paginator-typo", "did you mean 'has_more'?", base="rest", old="limit_param: limit, has_more: more",
        new="limit_param: limit, has_mor: more"),
    Bad("rest-paginator-type", "paginator: Input tag 'offsets'", base="rest", old="{type: offset, has_more: more}",
        new="{type: offsets, has_more: more}"),
    Bad("rest-cursor-format", "'isoformat' is not a time format", base="rest", old="format: iso8601}",
        new="format: isoformat}"),
    Bad("rest-cursor-tz", "unknown time zone 'Mars/Olympus'", base="rest", old="format: iso8601}",
        new="format: iso8601, tz: Mars/Olympus}"),
    Bad("rest-strptime-format", "not a valid strptime format", base="rest", old="format: iso8601}",
        new="format: '%Y-%m-%d %'}"),
    Bad("rest-no-path", "'pipelines.p.tables.0.path' is required", base="rest", old="        path: /incidents\n",
        new=""),
    Bad("rest-bare-table", "a REST table needs at least its path", base="rest",
        old="      - name: log_entries\n", new="      - log_entries\n      - name: log_entries\n"),
    Bad("rest-relative-path", "start it with /", base="rest", old="path: /incidents\n", new="path: incidents\n"),
    Bad("rest-unknown-parent", "parent 'incident' is not a table of this pipeline", base="rest",
        old="parent: incidents", new="parent: incident"),
    Bad("rest-parent-without-placeholder", "names none of its fields", base="rest",
        old="/incidents/{parent.id}/log_entries", new="/log_entries"),
    Bad("rest-placeholder-without-parent", "add parent:", base="rest", old="        parent: incidents\n", new=""),
    Bad("rest-window-without-cursor", "window: needs a cursor", base="rest",
        old="        cursor: {field: updated_at, format: iso8601}\n        order: cursor\n", new=""),
    Bad("rest-api-key-nowhere", "say where the key goes", base="rest", old="header: Authorization, ", new=""),
    Bad("rest-api-key-env-missing", "environment variable PD_MISSING is not set", base="rest",
        old="${env:PD_TOKEN}", new="${env:PD_MISSING}"),
    Bad("rest-api-key-bad-reference", "${env:NAME}", base="rest", old="${env:PD_TOKEN}", new="${PD_TOKEN}"),
    Bad("rest-oauth-no-token-url", "token_url", base="rest",
        old='{type: api_key, header: Authorization, value: "Token token=${env:PD_TOKEN}"}',
        new="{type: oauth_client_credentials, client_id: udc, client_secret: env:PD_TOKEN}"),
    Bad("rest-auth-kind", "auth", base="rest", old="type: api_key,", new="type: apikey,"),
    Bad("rest-order", "order", base="rest", old="order: cursor", new="order: ascending"),
    Bad("rest-records-path", "is not a dotted path", base="rest", old="records: incidents", new="records: 'data[0]'"),
    Bad("rest-empty-key", "name the field(s) that identify a record", base="rest", old="primary_key: id",
        new="primary_key: []"),
    Bad("rest-filter", "REST tables take no fields", base="rest", old="        records: incidents\n",
        new="        records: incidents\n        filter: active=true\n"),
    Bad("rest-jql", "jql (jira)", base="rest", old="    mode: incremental\n",
        new="    mode: incremental\n    jql: project = OPS\n"),
]


@dataclass(frozen=True)
class BadCommand:
    id: str
    args: tuple[str, ...]
    phrase: str
    synced: bool = False  # run against a folder whose store exists (a sync has happened)


COMMANDS: list[BadCommand] = [
    BadCommand("no-command", (), "Usage"),
    BadCommand("unknown-command", ("synk",), "No such command"),
    BadCommand("unknown-option", ("sync", "--pipeline", "p", "--fast"), "No such option"),
    BadCommand("sync-no-pipeline", ("sync",), "Missing option"),
    BadCommand("sync-unknown-pipeline", ("sync", "--pipeline", "nope"), "no pipeline named 'nope'"),
    BadCommand("sync-missing-config", ("sync", "--pipeline", "p", "--config", "missing.yaml"), "does not exist"),
    BadCommand("sync-config-folder", ("sync", "--pipeline", "p", "--config", "."), "is a folder"),
    BadCommand("validate-config-folder", ("config", "validate", "--config", "."), "is a folder"),
    BadCommand("status-unknown-pipeline", ("status", "--pipeline", "nope"), "no pipeline named 'nope'"),
    BadCommand("status-before-any-sync", ("status",), "nothing has been synced"),
    BadCommand("export-unknown-pipeline", ("export", "--pipeline", "nope", "--table", "incident"),
               "no pipeline named 'nope'"),
    BadCommand("export-bad-format", ("export", "--pipeline", "p", "--table", "incident", "--format", "xml"),
               "unknown export format 'xml'"),
    BadCommand("export-out-missing-folder", ("export", "--pipeline", "p", "--table", "incident", "--out",
                                             "/no/such/dir/x.jsonl"), "does not exist"),
    BadCommand("export-before-any-sync", ("export", "--pipeline", "p", "--table", "incident"),
               "nothing has been synced"),
    BadCommand("export-unknown-table", ("export", "--pipeline", "p", "--table", "nope"), "has no table 'nope'",
               synced=True),
    BadCommand("export-no-table", ("export", "--pipeline", "p"), "Missing option"),
    BadCommand("backfill-missing-end", ("backfill", "--pipeline", "p", "--start", "2025-01-01"),
               "needs --pipeline, --start and --end"),
    BadCommand("backfill-unknown-pipeline", ("backfill", "--pipeline", "nope", "--start", "2025-01-01", "--end",
                                             "2025-02-01"), "no pipeline named 'nope'"),
    BadCommand("backfill-impossible-start", ("backfill", "--pipeline", "p", "--start", "2025-02-30", "--end",
                                             "2025-03-31"), "--start '2025-02-30' is not a date"),
    BadCommand("backfill-word-end", ("backfill", "--pipeline", "p", "--start", "2025-01-01", "--end", "soon"),
               "--end 'soon' is not a date"),
    BadCommand("backfill-end-before-start", ("backfill", "--pipeline", "p", "--start", "2025-03-01", "--end",
                                             "2025-02-01"), "is not after the start"),
    BadCommand("backfill-bad-chunk", ("backfill", "--pipeline", "p", "--start", "2025-01-01", "--end", "2025-02-01",
                                      "--chunk", "1 day"), "--chunk"),
    BadCommand("backfill-zero-chunk", ("backfill", "--pipeline", "p", "--start", "2025-01-01", "--end", "2025-02-01",
                                       "--chunk", "0h"), "chunk size must be positive"),
    BadCommand("backfill-parallel-zero", ("backfill", "--pipeline", "p", "--start", "2025-01-01", "--end",
                                          "2025-02-01", "--parallel", "0"), "--parallel 0 is out of range"),
    BadCommand("backfill-attempts-zero", ("backfill", "--pipeline", "p", "--start", "2025-01-01", "--end",
                                          "2025-02-01", "--attempts", "0"), "attempts must be at least 1"),
    BadCommand("backfill-parallel-word", ("backfill", "--pipeline", "p", "--start", "2025-01-01", "--end",
                                          "2025-02-01", "--parallel", "many"), "Invalid value"),
    BadCommand("backfill-unknown-table", ("backfill", "--pipeline", "p", "--start", "2025-01-01", "--end",
                                          "2025-02-01", "--tables", "incident,nope"), "does not sync nope"),
    BadCommand("backfill-tz-without-window", ("backfill", "--pipeline", "p", "--start", "2025-01-01", "--end",
                                              "2025-02-01", "--tz", "Europe/Berlin"), "there is no --window"),
    BadCommand("backfill-empty-window", ("backfill", "--pipeline", "p", "--start", "2025-01-01", "--end",
                                         "2025-02-01", "--window", "00:00-00:00"), "starts where it ends"),
    BadCommand("backfill-bad-window", ("backfill", "--pipeline", "p", "--start", "2025-01-01", "--end", "2025-02-01",
                                       "--window", "night"), "'night' is not a time window"),
    BadCommand("backfill-window-25h", ("backfill", "--pipeline", "p", "--start", "2025-01-01", "--end", "2025-02-01",
                                       "--window", "22:00-25:00"), "hours are 00-23"),
    BadCommand("backfill-unknown-tz", ("backfill", "--pipeline", "p", "--start", "2025-01-01", "--end", "2025-02-01",
                                       "--window", "00:00-06:00", "--tz", "Mars/Olympus"), "unknown time zone"),
    BadCommand("backfill-resume-with-pipeline", ("backfill", "--resume", "1", "--pipeline", "p"),
               "takes no --pipeline"),
    BadCommand("backfill-resume-before-any-sync", ("backfill", "--resume", "1"), "nothing has been synced"),
    BadCommand("backfill-resume-unknown", ("backfill", "--resume", "99"), "there is no backfill #99", synced=True),
    BadCommand("backfill-status-before-any-sync", ("backfill", "status"), "nothing has been synced"),
    BadCommand("backfill-status-unknown-id", ("backfill", "status", "99"), "there is no backfill #99", synced=True),
    BadCommand("run-historical", ("run", "--pipeline", "p"), "is historical"),
    BadCommand("run-no-incremental", ("run",), "no incremental pipelines to schedule"),
    BadCommand("run-unknown-pipeline", ("run", "--pipeline", "nope"), "no pipeline named 'nope'"),
    BadCommand("discover-unknown-connector", ("discover", "--connector", "nope"), "no connector named 'nope'"),
    BadCommand("check-unknown-connector", ("check", "--connector", "nope"), "no connector named 'nope'"),
    BadCommand("sync-json-unknown-pipeline", ("sync", "--pipeline", "nope", "--json"), '"exit_code":2'),
]
