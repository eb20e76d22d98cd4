"""Schema-driven rules: fields known to hold people are replaced whole, join keys next to them are kept.

`FieldRules.for_dict` looks at one dict of a record (the record itself or a nested object) and says, per key,
whether its value is a whole entity (replace it entirely), a join key to keep, or a person object to descend into.
Keys it says nothing about are scanned as free text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from udc.config import entities as E

KEEP = "keep"  # a join key (sys_id, accountId, Salesforce Id) or link: not PII, needed to relate records
PERSON_OBJECT = "person_object"  # descend: the dict describes one person

_ID_LIKE = re.compile(
    r"[0-9a-f]{32}"  # ServiceNow sys_id
    r"|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"  # GUID
    r"|[0-9a-f]{24}|\d{6}:[0-9a-f-]{36}|qm:[0-9a-f-]{36}:[0-9a-f-]{36}"  # Atlassian account ids
    r"|(?=[a-zA-Z]{0,14}\d)[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?"  # Salesforce ids contain a digit
    r"|(?:JIRAUSER)?\d+"
    r"|(?:[0-9a-f]{32},\s*)+[0-9a-f]{32}",  # ServiceNow list of sys_ids (watch_list)
)

_EMAIL_KEYS = {"email", "emailaddress", "mail", "useremail", "contactemail", "workemail", "personalemail",
               "personemail", "suppliedemail"}
_PHONE_KEYS = {"phone", "phonenumber", "mobilephone", "mobile", "homephone", "otherphone", "workphone",
               "businessphone", "telephone", "cellphone", "cell", "fax", "assistantphone", "suppliedphone"}
_NAME_KEYS = {"name", "firstname", "lastname", "middlename", "fullname", "displayname", "publicname", "username",
              "nickname", "suffix", "key", "login"}  # "key" is a Jira Data Center user key (often the login name)
_ALWAYS_NAME_KEYS = {"firstname", "lastname", "middlename", "fullname", "displayname", "suppliedname", "publicname"}
_DOB_KEYS = {"birthdate", "dateofbirth", "dob", "birthday"}
_ADDRESS_KEYS = {"street", "mailingstreet", "otherstreet", "homeaddress", "streetaddress", "address",
                 "mailingpostalcode", "otherpostalcode", "zip", "postalcode"}
_PERSON_REF_KEEP = {"value", "link", "self", "accountid", "id", "sys_id", "authorid", "attributes", "url",
                    "avatarurls", "accounttype", "active", "timezone", "locale", "type", "profilepicture", "_links"}

# ServiceNow fields that reference sys_user (plain sys_id, display name, or {"link", "value", "display_value"}).
SERVICENOW_PEOPLE = frozenset({
    "caller_id", "opened_by", "assigned_to", "requested_by", "requested_for", "closed_by", "resolved_by", "approver",
    "manager", "u_caller", "u_requester", "u_requested_for", "sys_created_by", "sys_updated_by", "contact", "consumer",
    "user", "reported_by", "owned_by", "managed_by", "supported_by", "delegate", "sys_approver", "caller",
})
SERVICENOW_PEOPLE_TABLES = frozenset({"sys_user", "customer_contact", "csm_consumer", "sn_customerservice_contact",
                                      "cmn_notif_device"})
SALESFORCE_PEOPLE = frozenset({"Contact", "Lead", "User", "Individual", "Case_Contact"})
SALESFORCE_PEOPLE_RELATIONS = frozenset({"Owner", "CreatedBy", "LastModifiedBy", "Contact", "ReportsTo", "Manager",
                                         "Requester"})
GENERIC_PEOPLE = frozenset({"author", "reporter", "assignee", "creator", "requester", "submitter", "owner",
                            "customer", "contact", "user", "updateauthor", "createdby", "lastmodifiedby"})


def fold(key: str) -> str:
    """Compare field names loosely: `Mobile_Phone`, `mobilePhone` and `mobile-phone` are one name."""
    return key.replace("_", "").replace("-", "").lower()


def is_people_table(stream: str) -> bool:
    """A table, object or stream whose records are people."""
    return stream in SERVICENOW_PEOPLE_TABLES or stream in SALESFORCE_PEOPLE or stream.lower() in (
        "users", "user", "contacts", "people")


def is_id_like(value: str) -> bool:
    return not value or _ID_LIKE.fullmatch(value.strip()) is not None


class FieldRules:
    def __init__(self, source_type: str) -> None:
        self.source_type = source_type

    def for_dict(self, stream: str, obj: Mapping[str, Any], owner: str | None, in_person: bool) -> dict[str, str]:
        """Rules for `obj`'s keys. `owner` is the key `obj` sits under (None at the record root); `in_person` says
        the caller already knows `obj` describes a person."""
        person = in_person or self._is_person(stream, obj, owner)
        rules: dict[str, str] = {}
        for key, value in obj.items():
            rule = self._rule(key, value, person, obj)
            if rule is not None:
                rules[key] = rule
        return rules

    def _is_person(self, stream: str, obj: Mapping[str, Any], owner: str | None) -> bool:
        if owner is None:  # the record itself
            return is_people_table(stream)
        link = obj.get("link")
        if isinstance(link, str) and "/table/sys_user/" in link:  # any ServiceNow reference to a user record
            return True
        attributes = obj.get("attributes")
        if isinstance(attributes, Mapping) and attributes.get("type") in SALESFORCE_PEOPLE:
            return True
        if "accountId" in obj or ("displayName" in obj and ("emailAddress" in obj or "avatarUrls" in obj)):
            return True  # Atlassian user object (reporter, assignee, comment author, page author...)
        if self.source_type == "salesforce" and owner in SALESFORCE_PEOPLE_RELATIONS:
            return True
        return fold(owner) in GENERIC_PEOPLE or owner in SERVICENOW_PEOPLE

    def _rule(self, key: str, value: Any, person: bool, obj: Mapping[str, Any]) -> str | None:
        folded = fold(key)
        if isinstance(value, Mapping):
            if obj.get("type") == "mention" and key == "attrs":  # Jira ADF @mention: attrs.text is a name
                return PERSON_OBJECT
            return None  # nested objects are classified when visited
        if "." in key and self.source_type in ("servicenow", "rest"):
            return self._dot_walk(key, value)
        if self.source_type == "servicenow" and key in SERVICENOW_PEOPLE:
            return KEEP if not isinstance(value, str) or is_id_like(value) else E.PERSON
        if folded in _EMAIL_KEYS:
            return E.EMAIL
        if folded in _PHONE_KEYS:
            return E.PHONE
        if folded in _DOB_KEYS:
            return E.DATE_OF_BIRTH
        if folded in _ALWAYS_NAME_KEYS or (person and folded in _NAME_KEYS) or (person and folded == "text"):
            return E.PERSON
        if person and folded in ("displayvalue", "username"):
            return E.PERSON
        if person and folded in _ADDRESS_KEYS:
            return E.LOCATION
        if person and folded in _PERSON_REF_KEEP:
            return KEEP
        if folded in GENERIC_PEOPLE and isinstance(value, str):
            return KEEP if is_id_like(value) else E.PERSON
        return None

    def _dot_walk(self, key: str, value: Any) -> str | None:
        """ServiceNow dot-walked fields: `caller_id.email`, `opened_by.name`, `assigned_to.phone`..."""
        head, _, tail = key.rpartition(".")
        tail_folded = fold(tail)
        if tail_folded in _EMAIL_KEYS:
            return E.EMAIL
        if tail_folded in _PHONE_KEYS:
            return E.PHONE
        root = head.split(".", 1)[0]
        if root in SERVICENOW_PEOPLE or fold(root) in GENERIC_PEOPLE:
            if tail_folded in _NAME_KEYS or tail_folded in ("username", "userid"):
                return E.PERSON
            if tail_folded in ("sysid", "value"):
                return KEEP
            if tail_folded in _ADDRESS_KEYS:
                return E.LOCATION
            if tail_folded in _DOB_KEYS:
                return E.DATE_OF_BIRTH
        return None
