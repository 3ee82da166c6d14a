"""The probes keyturn builds from n8n's table, checked against what each vendor documents.

Each case below was written by hand from the vendor's public API documentation (the page is
named in the case), not from the table: the method, the full URL, where the key goes (header
and scheme, query parameter, Basic user and password) and the body. The request keyturn would
send is caught on a mock transport (send_probe, no network) and compared with it, and it must
be one that h11, httpx's HTTP/1.1 layer, accepts to put on the wire.

Where the table (or keyturn) and the vendor disagree the case says the vendor's truth and is
marked xfail(strict=True) with the reason: fixing it turns the case green and the strict mark
red, so the mark is removed with the fix.

The last tests walk every type of the table: whatever the type, build_request raises nothing
but ExpressionError, the address is http(s), and the secret lands where `authenticate` says.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, quote, quote_plus, unquote

import h11
import httpx
import pytest

from keyturn.core.probe import ProbeResult
from keyturn.n8n.expressions import ExpressionError, render
from keyturn.n8n.type_probes import (
    ProbeRequest,
    TypeProbe,
    _table,
    build_request,
    probed_types,
    send_probe,
    type_probe,
)

ABSENT = object()  # a case that expects no body


@dataclass(frozen=True)
class Case:
    """One vendor's documented answer to "how do I call this with my key"."""

    type_name: str
    values: dict[str, Any]  # the credential's fields: sample secrets, options
    method: str
    url: str  # scheme://host/path, without the query
    doc: str  # the vendor page the expectation comes from
    headers: dict[str, str | tuple[str, ...]] = field(default_factory=dict)  # tuple: any of
    query: dict[str, str] = field(default_factory=dict)  # decoded values
    basic: tuple[str, str] | None = None  # Basic auth user and password, raw
    json_body: Any = ABSENT
    form_body: dict[str, str] | None = None
    label: str = ""

    @property
    def id(self) -> str:
        return f"{self.type_name}-{self.label}" if self.label else self.type_name


def bearer(token: str) -> str:
    return f"Bearer {token}"


def basic_header(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


# Secrets with the characters an encoder must not let through (+ / = & %), for the cases where
# the key travels in a query or in Basic auth (base64 of the raw value).
ODD_GEMINI = "AIzaKt+/=&%Gem1ni"
ODD_PIPEDRIVE = "kt+pipe/drive=&%42"
ODD_TOGGL_PASSWORD = "c0rrect+horse/battery=staple&%"
ODD_LEMLIST = "lem+list/key=&%0"
ODD_MAILJET_SECRET = "mj+secret/=&%9f"
ODD_TWILIO_KEY_SECRET = "twilio+key/secret=&%7"
ODD_GONG_SECRET = "eyJhbGciOiJIUzI1NiJ9.kt+gong/=&%"
TWILIO_SID = "AC0123456789abcdef0123456789abcdef"
TWILIO_TOKEN = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"
TELEGRAM_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
TRELLO_KEY = "0123456789abcdef0123456789abcdef"
TRELLO_TOKEN = "ATTA3f1c9e0b7d2a4c6e8f0a1b3c5d7e9f1a2b4c6d8e0f1a3b5c7d9e1f3a5b7c9dF00BA7"
CALENDLY_TOKEN = "eyJraWQiOiIxY2UxZTEzNjE3ZGNmNzY2YjNjZWJjY2Y4ZGM1YmFmYTh.eyJ0eXAiOiJQQVQifQ.kT"
MAILCHIMP_KEY = "0123456789abcdef0123456789abcdef-us21"


VENDOR_CASES: list[Any] = [
    # ---- AI providers ----
    pytest.param(
        Case(
            "openAiApi",
            {"apiKey": "sk-proj-kT1aB2cD3eF4gH5iJ6"},
            "GET",
            "https://api.openai.com/v1/models",
            doc="https://platform.openai.com/docs/api-reference/models/list",
            headers={"Authorization": bearer("sk-proj-kT1aB2cD3eF4gH5iJ6")},
        ),
        id="openAiApi",
    ),
    pytest.param(
        Case(  # authenticate derived from code in the table
            "anthropicApi",
            {"apiKey": "sk-ant-api03-kT9xY8wV7u"},
            "GET",
            "https://api.anthropic.com/v1/models",
            doc="https://docs.anthropic.com/en/api/models-list",
            headers={"x-api-key": "sk-ant-api03-kT9xY8wV7u", "anthropic-version": "2023-06-01"},
        ),
        id="anthropicApi",
    ),
    pytest.param(
        Case(
            "mistralCloudApi",
            {"apiKey": "kTmistral0123456789"},
            "GET",
            "https://api.mistral.ai/v1/models",
            doc="https://docs.mistral.ai/api/#tag/models/operation/list_models_v1_models_get",
            headers={"Authorization": bearer("kTmistral0123456789")},
        ),
        id="mistralCloudApi",
    ),
    pytest.param(
        Case(
            "groqApi",
            {"apiKey": "gsk_kT0123456789abcdef"},
            "GET",
            "https://api.groq.com/openai/v1/models",
            doc="https://console.groq.com/docs/api-reference#models-list",
            headers={"Authorization": bearer("gsk_kT0123456789abcdef")},
        ),
        id="groqApi",
    ),
    pytest.param(
        Case(
            "deepSeekApi",
            {"apiKey": "sk-kTdeepseek0123"},
            "GET",
            "https://api.deepseek.com/models",
            doc="https://api-docs.deepseek.com/api/list-models",
            headers={"Authorization": bearer("sk-kTdeepseek0123")},
        ),
        id="deepSeekApi",
    ),
    pytest.param(
        Case(
            "openRouterApi",
            {"apiKey": "sk-or-v1-kT0123456789"},
            "GET",
            "https://openrouter.ai/api/v1/key",
            doc="https://openrouter.ai/docs/api/api-reference/api-keys/get-current-key",
            headers={"Authorization": bearer("sk-or-v1-kT0123456789")},
        ),
        id="openRouterApi",
    ),
    pytest.param(
        Case(
            "xAiApi",
            {"apiKey": "xai-kT0123456789abcdef"},
            "GET",
            "https://api.x.ai/v1/models",
            doc="https://docs.x.ai/docs/api-reference#list-models",
            headers={"Authorization": bearer("xai-kT0123456789abcdef")},
        ),
        id="xAiApi",
    ),
    pytest.param(
        Case(
            "cohereApi",
            {"apiKey": "kTcohere0123456789"},
            "GET",
            "https://api.cohere.com/v1/models",
            doc="https://docs.cohere.com/reference/list-models",
            headers={"Authorization": bearer("kTcohere0123456789")},
            query={"page_size": "1"},
        ),
        id="cohereApi",
        marks=pytest.mark.xfail(
            strict=True,
            reason="Cohere documents the host https://api.cohere.com; the table's default url "
            "is the legacy host https://api.cohere.ai (and page_size=1, written into the "
            "table's url, is dropped on the wire like braveSearchApi's query)",
        ),
    ),
    pytest.param(
        Case(
            "huggingFaceApi",
            {"apiKey": "hf_kT0123456789abcdef"},
            "GET",
            "https://huggingface.co/api/whoami-v2",
            doc="https://huggingface.co/docs/huggingface_hub/package_reference/hf_api#huggingface_hub.HfApi.whoami",
            headers={"Authorization": bearer("hf_kT0123456789abcdef")},
        ),
        id="huggingFaceApi",
    ),
    pytest.param(
        Case(  # Gemini: the key as the `key` query parameter (or x-goog-api-key)
            "googlePalmApi",
            {"apiKey": ODD_GEMINI},
            "GET",
            "https://generativelanguage.googleapis.com/v1beta/models",
            doc="https://ai.google.dev/api/models#method:-models.list",
            query={"key": ODD_GEMINI},
        ),
        id="googlePalmApi",
    ),
    pytest.param(
        Case(
            "perplexityApi",
            {"apiKey": "pplx-kT0123456789"},
            "POST",
            "https://api.perplexity.ai/chat/completions",
            doc="https://docs.perplexity.ai/api-reference/chat-completions-post",
            headers={"Authorization": bearer("pplx-kT0123456789")},
            json_body={"model": "sonar", "messages": [{"role": "user", "content": "test"}]},
        ),
        id="perplexityApi",
    ),
    pytest.param(
        Case(
            "pineconeApi",
            {"apiKey": "pcsk_kT0123_456789"},
            "GET",
            "https://api.pinecone.io/indexes",
            doc="https://docs.pinecone.io/reference/api/2025-01/control-plane/list_indexes",
            headers={"Api-Key": "pcsk_kT0123_456789"},
        ),
        id="pineconeApi",
    ),
    pytest.param(
        Case(  # authenticate derived from code in the table
            "nvidiaApi",
            {"apiKey": "nvapi-kT0123456789"},
            "GET",
            "https://integrate.api.nvidia.com/v1/models",
            doc="https://docs.api.nvidia.com/nim/reference/models-1",
            headers={"Authorization": bearer("nvapi-kT0123456789")},
        ),
        id="nvidiaApi",
    ),
    pytest.param(
        Case(  # the plan (a non-URL field) chooses the host
            "deepLApi",
            {"apiKey": "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", "apiPlan": "pro"},
            "GET",
            "https://api.deepl.com/v2/usage",
            doc="https://developers.deepl.com/docs/api-reference/usage-and-quota",
            headers={"Authorization": "DeepL-Auth-Key 0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"},
            label="pro",
        ),
        id="deepLApi-pro",
    ),
    pytest.param(
        Case(  # free keys end in :fx and are served by api-free.deepl.com
            "deepLApi",
            {"apiKey": "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0:fx", "apiPlan": "free"},
            "GET",
            "https://api-free.deepl.com/v2/usage",
            doc="https://developers.deepl.com/docs/getting-started/auth",
            headers={"Authorization": "DeepL-Auth-Key 0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0:fx"},
            label="free",
        ),
        id="deepLApi-free",
    ),
    pytest.param(
        Case(
            "braveSearchApi",
            {"apiKey": "BSAkT0123456789"},
            "GET",
            "https://api.search.brave.com/res/v1/web/search",
            doc="https://api-dashboard.search.brave.com/app/documentation/web-search/get-started",
            headers={"X-Subscription-Token": "BSAkT0123456789", "Accept": "application/json"},
            query={"q": "test", "count": "1"},
        ),
        id="braveSearchApi",
    ),
    pytest.param(
        Case(
            "serpApi",
            {"apiKey": "0123456789abcdef0123456789abcdef0123456789abcdef"},
            "GET",
            "https://serpapi.com/account.json",
            doc="https://serpapi.com/account-api",
            query={"api_key": "0123456789abcdef0123456789abcdef0123456789abcdef"},
        ),
        id="serpApi",
    ),
    # ---- payments, CRM ----
    pytest.param(
        Case(  # Basic with the key as user, or Bearer: both documented
            "stripeApi",
            {"secretKey": "sk_live_kT0123456789abcdef"},
            "GET",
            "https://api.stripe.com/v1/charges",
            doc="https://docs.stripe.com/api/authentication",
            headers={"Authorization": bearer("sk_live_kT0123456789abcdef")},
        ),
        id="stripeApi",
    ),
    pytest.param(
        Case(
            "hubspotAppToken",
            {"appToken": "pat-na1-0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"},
            "GET",
            "https://api.hubapi.com/account-info/v3/details",
            doc="https://developers.hubspot.com/docs/api/settings/account-information-api",
            headers={"Authorization": bearer("pat-na1-0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0")},
        ),
        id="hubspotAppToken",
    ),
    pytest.param(
        Case(  # api_token as a query parameter (or x-api-token header)
            "pipedriveApi",
            {"apiToken": ODD_PIPEDRIVE},
            "GET",
            "https://api.pipedrive.com/v1/userSettings",
            doc="https://pipedrive.readme.io/docs/core-api-concepts-authentication",
            query={"api_token": ODD_PIPEDRIVE},
        ),
        id="pipedriveApi",
    ),
    pytest.param(
        Case(
            "copperApi",
            {"apiKey": "kTcopper0123456789abcdef", "email": "ada@example.com"},
            "GET",
            "https://api.copper.com/developer_api/v1/users/me",
            doc="https://developer.copper.com/introduction/requests.html",
            headers={
                "X-PW-AccessToken": "kTcopper0123456789abcdef",
                "X-PW-Application": "developer_api",
                "X-PW-UserEmail": "ada@example.com",
                "Content-Type": "application/json",
            },
        ),
        id="copperApi",
        marks=pytest.mark.xfail(
            strict=True,
            reason="Copper says every call must carry Content-Type: application/json; the "
            "table's test request (a GET, no body) sends none",
        ),
    ),
    pytest.param(
        Case(
            "intercomApi",
            {"apiKey": "dG9rOmtUMDEyMzQ1Njc4OQ=="},
            "GET",
            "https://api.intercom.io/me",
            doc="https://developers.intercom.com/docs/references/rest-api/api.intercom.io/admins/identifyadmin",
            headers={
                "Authorization": bearer("dG9rOmtUMDEyMzQ1Njc4OQ=="),
                "Accept": "application/json",
            },
        ),
        id="intercomApi",
    ),
    pytest.param(
        Case(  # authenticate derived from code in the table
            "calendlyApi",
            {"apiKey": CALENDLY_TOKEN},
            "GET",
            "https://api.calendly.com/users/me",
            doc="https://developer.calendly.com/api-docs/005832c83aeae-get-current-user",
            headers={"Authorization": bearer(CALENDLY_TOKEN)},
        ),
        id="calendlyApi",
    ),
    pytest.param(
        Case(
            "getResponseApi",
            {"apiKey": "kTgetresponse0123456789"},
            "GET",
            "https://api.getresponse.com/v3/campaigns",
            doc="https://apireference.getresponse.com/#/section/Authentication",
            headers={"X-Auth-Token": "api-key kTgetresponse0123456789"},
        ),
        id="getResponseApi",
    ),
    pytest.param(
        Case(  # authenticate derived from code in the table
            "actionNetworkApi",
            {"apiKey": "kTactionnetwork0123456789"},
            "GET",
            "https://actionnetwork.org/api/v2/events",
            doc="https://actionnetwork.org/docs/v2/#authentication",
            headers={"OSDI-API-Token": "kTactionnetwork0123456789"},
            query={"per_page": "1"},
        ),
        id="actionNetworkApi",
    ),
    # ---- chat, messaging ----
    pytest.param(
        Case(
            "slackApi",
            {"accessToken": "xoxb-1234-5678-kT0123456789"},
            "GET",
            "https://slack.com/api/users.profile.get",
            doc="https://api.slack.com/methods/users.profile.get",
            headers={"Authorization": bearer("xoxb-1234-5678-kT0123456789")},
        ),
        id="slackApi",
    ),
    pytest.param(
        Case(
            "discordBotApi",
            {"botToken": "MTIzNDU2Nzg5MDEyMzQ1Njc4.kT0123.abcdefghijklmnop"},
            "GET",
            "https://discord.com/api/v10/users/@me/guilds",
            doc="https://discord.com/developers/docs/reference#authentication",
            headers={"Authorization": "Bot MTIzNDU2Nzg5MDEyMzQ1Njc4.kT0123.abcdefghijklmnop"},
        ),
        id="discordBotApi",
    ),
    pytest.param(
        Case(  # no authenticate: the token is part of the path
            "telegramApi",
            {"accessToken": TELEGRAM_TOKEN},
            "GET",
            f"https://api.telegram.org/bot{TELEGRAM_TOKEN}/getMe",
            doc="https://core.telegram.org/bots/api#making-requests",
        ),
        id="telegramApi",
    ),
    pytest.param(
        Case(  # Basic: Account SID and Auth Token
            "twilioApi",
            {"accountSid": TWILIO_SID, "authToken": TWILIO_TOKEN},
            "GET",
            f"https://api.twilio.com/2010-04-01/Accounts/{TWILIO_SID}.json",
            doc="https://www.twilio.com/docs/usage/requests-to-twilio#authenticate-with-http",
            basic=(TWILIO_SID, TWILIO_TOKEN),
            label="authToken",
        ),
        id="twilioApi-authToken",
    ),
    pytest.param(
        Case(  # Basic: API Key SID and its secret; the account is still in the path
            "twilioApi",
            {
                "authType": "apiKey",
                "accountSid": TWILIO_SID,
                "apiKeySid": "SK0123456789abcdef0123456789abcdef",
                "apiKeySecret": ODD_TWILIO_KEY_SECRET,
            },
            "GET",
            f"https://api.twilio.com/2010-04-01/Accounts/{TWILIO_SID}.json",
            doc="https://www.twilio.com/docs/iam/api-keys#authenticate-with-api-keys",
            basic=("SK0123456789abcdef0123456789abcdef", ODD_TWILIO_KEY_SECRET),
            label="apiKey",
        ),
        id="twilioApi-apiKey",
    ),
    pytest.param(
        Case(  # authenticate derived from code in the table
            "pushoverApi",
            {"apiKey": "azGDORePK8gMaC0QOYAMyEEuzJnyUi"},
            "GET",
            "https://api.pushover.net/1/licenses.json",
            doc="https://pushover.net/api/licensing",
            query={"token": "azGDORePK8gMaC0QOYAMyEEuzJnyUi"},
        ),
        id="pushoverApi",
    ),
    pytest.param(
        Case(
            "zoomApi",
            {"accessToken": "eyJzdiI6IjAwMDAwMSJ9.kT0123"},
            "GET",
            "https://api.zoom.us/v2/users/me",
            doc="https://developers.zoom.us/docs/api/users/#tag/users/GET/users/{userId}",
            headers={"Authorization": bearer("eyJzdiI6IjAwMDAwMSJ9.kT0123")},
        ),
        id="zoomApi",
    ),
    pytest.param(
        Case(
            "mailjetSmsApi",
            {"token": "kTmailjetsms0123456789"},
            "GET",
            "https://api.mailjet.com/v4/sms",
            doc="https://dev.mailjet.com/sms/reference/overview/authentication/",
            headers={"Authorization": bearer("kTmailjetsms0123456789")},
        ),
        id="mailjetSmsApi",
    ),
    # ---- e-mail ----
    pytest.param(
        Case(
            "sendGridApi",
            {"apiKey": "SG.kT0123456789.abcdefghijklmnopqrstuvwxyz"},
            "GET",
            "https://api.sendgrid.com/v3/scopes",
            doc="https://www.twilio.com/docs/sendgrid/api-reference/api-key-permissions/retrieve-a-list-of-scopes-for-which-this-user-has-access",
            headers={"Authorization": bearer("SG.kT0123456789.abcdefghijklmnopqrstuvwxyz")},
        ),
        id="sendGridApi",
    ),
    pytest.param(
        Case(  # the datacenter (us21) comes from the key's suffix
            "mailchimpApi",
            {"apiKey": MAILCHIMP_KEY},
            "GET",
            "https://us21.api.mailchimp.com/3.0/lists",
            doc="https://mailchimp.com/developer/marketing/docs/fundamentals/#api-structure",
            headers={"Authorization": bearer(MAILCHIMP_KEY)},
        ),
        id="mailchimpApi",
        marks=pytest.mark.xfail(
            strict=True,
            reason="Mailchimp documents HTTP Basic (any user, the key as password) or "
            "'Authorization: Bearer <key>'; the table sends the undocumented 'apikey <key>'",
        ),
    ),
    pytest.param(
        Case(
            "mailgunApi",
            {"apiKey": "key-kT0123456789abcdef"},
            "GET",
            "https://api.mailgun.net/v4/domains",
            doc="https://documentation.mailgun.com/docs/mailgun/api-reference/openapi-final/tag/Domains/",
            basic=("api", "key-kT0123456789abcdef"),
        ),
        id="mailgunApi",
        marks=pytest.mark.xfail(
            strict=True,
            reason="Mailgun documents the domain list at GET /v4/domains; the table uses the "
            "legacy /v3/domains",
        ),
    ),
    pytest.param(
        Case(  # Basic: API key and secret key (two secret fields)
            "mailjetEmailApi",
            {"apiKey": "0123456789abcdef0123456789abcdef", "secretKey": ODD_MAILJET_SECRET},
            "GET",
            "https://api.mailjet.com/v3/REST/template",
            doc="https://dev.mailjet.com/email/guides/#authentication",
            basic=("0123456789abcdef0123456789abcdef", ODD_MAILJET_SECRET),
        ),
        id="mailjetEmailApi",
    ),
    pytest.param(
        Case(
            "postmarkApi",
            {"serverToken": "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"},
            "GET",
            "https://api.postmarkapp.com/server",
            doc="https://postmarkapp.com/developer/api/server-api#get-server",
            headers={"X-Postmark-Server-Token": "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"},
        ),
        id="postmarkApi",
    ),
    pytest.param(
        Case(
            "sendInBlueApi",
            {"apiKey": "xkeysib-kT0123456789abcdef-AbCdEf"},
            "GET",
            "https://api.brevo.com/v3/account",
            doc="https://developers.brevo.com/reference/getaccount",
            headers={"api-key": "xkeysib-kT0123456789abcdef-AbCdEf"},
        ),
        id="sendInBlueApi",
    ),
    pytest.param(
        Case(  # authenticate derived from code in the table
            "mailerLiteApi",
            {"apiKey": "kTmailerliteclassic0123", "classicApi": True},
            "GET",
            "https://api.mailerlite.com/api/v2/groups",
            doc="https://developers-classic.mailerlite.com/docs/authentication",
            headers={"X-MailerLite-ApiKey": "kTmailerliteclassic0123"},
            label="classic",
        ),
        id="mailerLiteApi-classic",
    ),
    pytest.param(
        Case(
            "mailerLiteApi",
            {"apiKey": "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.kT", "classicApi": False},
            "GET",
            "https://connect.mailerlite.com/api/groups",
            doc="https://developers.mailerlite.com/docs/#authentication",
            headers={"Authorization": bearer("eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.kT")},
            label="new",
        ),
        id="mailerLiteApi-new",
    ),
    pytest.param(
        Case(  # authenticate derived from code: Basic with an empty user, the key as password
            "lemlistApi",
            {"apiKey": ODD_LEMLIST},
            "GET",
            "https://api.lemlist.com/api/campaigns",
            doc="https://developer.lemlist.com/api-reference/getting-started/authentication",
            basic=("", ODD_LEMLIST),
        ),
        id="lemlistApi",
    ),
    # ---- project tools, dev tools ----
    pytest.param(
        Case(  # authenticate derived from code in the table
            "notionApi",
            {"apiKey": "ntn_kT0123456789abcdef"},
            "GET",
            "https://api.notion.com/v1/users/me",
            doc="https://developers.notion.com/reference/get-self",
            headers={
                "Authorization": bearer("ntn_kT0123456789abcdef"),
                "Notion-Version": "2022-02-22",
            },
        ),
        id="notionApi",
    ),
    pytest.param(
        Case(
            "airtableTokenApi",
            {"accessToken": "patkT0123456789.abcdef0123456789"},
            "GET",
            "https://api.airtable.com/v0/meta/whoami",
            doc="https://airtable.com/developers/web/api/get-user-id-scopes",
            headers={"Authorization": bearer("patkT0123456789.abcdef0123456789")},
        ),
        id="airtableTokenApi",
    ),
    pytest.param(
        Case(
            "asanaApi",
            {"accessToken": "2/1234567890/kT0123456789:abcdef"},
            "GET",
            "https://app.asana.com/api/1.0/users/me",
            doc="https://developers.asana.com/reference/getuser",
            headers={"Authorization": bearer("2/1234567890/kT0123456789:abcdef")},
        ),
        id="asanaApi",
    ),
    pytest.param(
        Case(  # authenticate derived from code; key and token (two secrets) in the query
            "trelloApi",
            {"apiKey": TRELLO_KEY, "apiToken": TRELLO_TOKEN},
            "GET",
            f"https://api.trello.com/1/tokens/{TRELLO_TOKEN}/member",
            doc="https://developer.atlassian.com/cloud/trello/rest/api-group-tokens/#api-tokens-token-member-get",
            query={"key": TRELLO_KEY, "token": TRELLO_TOKEN},
        ),
        id="trelloApi",
    ),
    pytest.param(
        Case(  # the personal token itself, no scheme
            "clickUpApi",
            {"accessToken": "pk_1234567_KT0123456789ABCDEF"},
            "GET",
            "https://api.clickup.com/api/v2/team",
            doc="https://developer.clickup.com/docs/authentication#personal-token",
            headers={"Authorization": "pk_1234567_KT0123456789ABCDEF"},
        ),
        id="clickUpApi",
    ),
    pytest.param(
        Case(
            "todoistApi",
            {"apiKey": "0123456789abcdef0123456789abcdef01234567"},
            "GET",
            "https://api.todoist.com/api/v1/labels",
            doc="https://developer.todoist.com/api/v1/#tag/Labels",
            headers={"Authorization": bearer("0123456789abcdef0123456789abcdef01234567")},
        ),
        id="todoistApi",
    ),
    pytest.param(
        Case(  # GraphQL: POST, JSON body with a `query` key
            "mondayComApi",
            {"apiToken": "eyJhbGciOiJIUzI1NiJ9.kTmonday"},
            "POST",
            "https://api.monday.com/v2",
            doc="https://developer.monday.com/api-reference/docs/getting-started",
            headers={
                "Authorization": (
                    "eyJhbGciOiJIUzI1NiJ9.kTmonday",
                    bearer("eyJhbGciOiJIUzI1NiJ9.kTmonday"),
                ),
                "Content-Type": "application/json",
            },
            json_body={"query": "query { me { name }}"},
        ),
        id="mondayComApi",
    ),
    pytest.param(
        Case(  # Basic: e-mail and password (or token and "api_token")
            "togglApi",
            {"username": "ada@example.com", "password": ODD_TOGGL_PASSWORD},
            "GET",
            "https://api.track.toggl.com/api/v9/me",
            doc="https://engineering.toggl.com/docs/authentication/",
            basic=("ada@example.com", ODD_TOGGL_PASSWORD),
        ),
        id="togglApi",
    ),
    pytest.param(
        Case(
            "clockifyApi",
            {"apiKey": "kTclockify0123456789ab"},
            "GET",
            "https://api.clockify.me/api/v1/workspaces",
            doc="https://docs.clockify.me/#section/Authentication",
            headers={"X-Api-Key": "kTclockify0123456789ab"},
        ),
        id="clockifyApi",
    ),
    pytest.param(
        Case(  # Typeform's own examples write the scheme in lower case
            "typeformApi",
            {"accessToken": "tfp_kT0123456789abcdef"},
            "GET",
            "https://api.typeform.com/forms",
            doc="https://www.typeform.com/developers/get-started/personal-access-token/",
            headers={"Authorization": "bearer tfp_kT0123456789abcdef"},
        ),
        id="typeformApi",
    ),
    pytest.param(
        Case(
            "webflowApi",
            {"accessToken": "kTwebflow0123456789abcdef"},
            "GET",
            "https://api.webflow.com/v2/sites",
            doc="https://developers.webflow.com/data/reference/sites/list",
            headers={"Authorization": bearer("kTwebflow0123456789abcdef")},
        ),
        id="webflowApi",
    ),
    pytest.param(
        Case(  # an RPC endpoint without arguments: POST, no body
            "dropboxApi",
            {"accessToken": "sl.kT0123456789abcdef"},
            "POST",
            "https://api.dropboxapi.com/2/users/get_current_account",
            doc="https://www.dropbox.com/developers/documentation/http/documentation#users-get_current_account",
            headers={"Authorization": bearer("sl.kT0123456789abcdef")},
        ),
        id="dropboxApi",
    ),
    pytest.param(
        Case(  # the default server
            "githubApi",
            {"accessToken": "ghp_kT0123456789abcdef0123456789abcd"},
            "GET",
            "https://api.github.com/user",
            doc="https://docs.github.com/en/rest/authentication/authenticating-to-the-rest-api",
            headers={
                "Authorization": (
                    "token ghp_kT0123456789abcdef0123456789abcd",
                    bearer("ghp_kT0123456789abcdef0123456789abcd"),
                )
            },
        ),
        id="githubApi",
    ),
    pytest.param(
        Case(  # the default server
            "gitlabApi",
            {"accessToken": "glpat-kT0123456789abcdef"},
            "GET",
            "https://gitlab.com/api/v4/personal_access_tokens/self",
            doc="https://docs.gitlab.com/api/personal_access_tokens/#get-details-on-a-personal-access-token",
            headers={"PRIVATE-TOKEN": "glpat-kT0123456789abcdef"},
        ),
        id="gitlabApi",
    ),
    pytest.param(
        Case(
            "sentryIoApi",
            {"token": "sntrys_kT0123456789abcdef"},
            "GET",
            "https://sentry.io/api/0/organizations/",
            doc="https://docs.sentry.io/api/auth/",
            headers={"Authorization": bearer("sntrys_kT0123456789abcdef")},
        ),
        id="sentryIoApi",
    ),
    pytest.param(
        Case(
            "cloudflareApi",
            {"apiToken": "kTcloudflare0123456789abcdef0123456789ab"},
            "GET",
            "https://api.cloudflare.com/client/v4/user/tokens/verify",
            doc="https://developers.cloudflare.com/fundamentals/api/get-started/create-token/",
            headers={"Authorization": bearer("kTcloudflare0123456789abcdef0123456789ab")},
        ),
        id="cloudflareApi",
    ),
    pytest.param(
        Case(
            "netlifyApi",
            {"accessToken": "nfp_kT0123456789abcdef"},
            "GET",
            "https://api.netlify.com/api/v1/sites",
            doc="https://docs.netlify.com/api/get-started/#authentication",
            headers={"Authorization": bearer("nfp_kT0123456789abcdef")},
        ),
        id="netlifyApi",
    ),
    pytest.param(
        Case(  # no authenticate: the test request carries the header itself
            "codaApi",
            {"accessToken": "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"},
            "GET",
            "https://coda.io/apis/v1/whoami",
            doc="https://coda.io/developers/apis/v1#section/Authentication",
            headers={"Authorization": bearer("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0")},
        ),
        id="codaApi",
    ),
    pytest.param(
        Case(  # authenticate derived from code: Basic with the Atlassian e-mail and the token
            "bitbucketAccessTokenApi",
            {"email": "ada@example.com", "accessToken": "ATATT3xFfGF0kT0123456789"},
            "GET",
            "https://api.bitbucket.org/2.0/user",
            doc="https://support.atlassian.com/bitbucket-cloud/docs/using-api-tokens/",
            basic=("ada@example.com", "ATATT3xFfGF0kT0123456789"),
        ),
        id="bitbucketAccessTokenApi",
    ),
    pytest.param(
        Case(  # the default site; application key as a second secret
            "datadogApi",
            {"apiKey": "0123456789abcdef0123456789abcdef", "appKey": "kTdatadogappkey0123"},
            "GET",
            "https://api.datadoghq.com/api/v1/validate",
            doc="https://docs.datadoghq.com/api/latest/authentication/#validate-api-key",
            headers={"DD-API-KEY": "0123456789abcdef0123456789abcdef"},
        ),
        id="datadogApi",
    ),
    pytest.param(
        Case(  # the region (a non-URL field) chooses the host
            "mistApi",
            {"token": "kTmist0123456789abcdef", "region": "eu"},
            "GET",
            "https://api.eu.mist.com/api/v1/self",
            doc="https://www.juniper.net/documentation/us/en/software/mist/automation-integration/topics/topic-map/api-endpoint-global-region.html",
            headers={"Authorization": "Token kTmist0123456789abcdef"},
            label="eu",
        ),
        id="mistApi-eu",
    ),
    pytest.param(
        Case(
            "mistApi",
            {"token": "kTmist0123456789abcdef", "region": "us"},
            "GET",
            "https://api.mist.com/api/v1/self",
            doc="https://www.juniper.net/documentation/us/en/software/mist/automation-integration/topics/topic-map/api-endpoint-global-region.html",
            headers={"Authorization": "Token kTmist0123456789abcdef"},
            label="global",
        ),
        id="mistApi-global",
    ),
    pytest.param(
        Case(  # the default base URL; Basic: access key and its secret (two secrets)
            "gongApi",
            {"accessKey": "KT0123456789ABCDEF", "accessKeySecret": ODD_GONG_SECRET},
            "GET",
            "https://api.gong.io/v2/users",
            doc="https://help.gong.io/docs/receive-access-to-the-api",
            basic=("KT0123456789ABCDEF", ODD_GONG_SECRET),
        ),
        id="gongApi",
    ),
    pytest.param(
        Case(  # the default (US) data center
            "iterableApi",
            {"apiKey": "0123456789abcdef0123456789abcdef"},
            "GET",
            "https://api.iterable.com/api/webhooks",
            doc="https://support.iterable.com/hc/en-us/articles/360043464871-API-Keys",
            headers={"Api-Key": "0123456789abcdef0123456789abcdef"},
        ),
        id="iterableApi",
        marks=pytest.mark.xfail(
            strict=True,
            reason="Iterable documents the header 'Api-Key'; the table sends 'Api_Key' (an "
            "underscore header name that proxies such as nginx drop by default)",
        ),
    ),
    pytest.param(
        Case(  # the default host (Baserow cloud)
            "baserowTokenApi",
            {"token": "kTbaserow0123456789abcdefABCDEF"},
            "GET",
            "https://api.baserow.io/api/database/tables/all-tables/",
            doc="https://baserow.io/user-docs/personal-api-tokens",
            headers={"Authorization": "Token kTbaserow0123456789abcdefABCDEF"},
        ),
        id="baserowTokenApi",
    ),
    pytest.param(
        Case(  # the default host (Cal.com cloud)
            "calApi",
            {"apiKey": "cal_live_kT0123456789abcdef"},
            "GET",
            "https://api.cal.com/v2/me",
            doc="https://cal.com/docs/api-reference/v2/me/get-my-profile",
            headers={"Authorization": bearer("cal_live_kT0123456789abcdef")},
        ),
        id="calApi",
    ),
    # ---- other common ones: query keys, form and parameter auth ----
    pytest.param(
        Case(
            "openWeatherMapApi",
            {"accessToken": "0123456789abcdef0123456789abcdef"},
            "GET",
            "https://api.openweathermap.org/data/2.5/weather",
            doc="https://openweathermap.org/current#name",
            query={"q": "London", "appid": "0123456789abcdef0123456789abcdef"},
        ),
        id="openWeatherMapApi",
    ),
    pytest.param(
        Case(
            "nasaApi",
            {"api_key": "kTnasa0123456789abcdefABCDEF0123456789ab"},
            "GET",
            "https://api.nasa.gov/planetary/apod",
            doc="https://api.nasa.gov/#signUp",
            query={"api_key": "kTnasa0123456789abcdefABCDEF0123456789ab"},
        ),
        id="nasaApi",
    ),
    pytest.param(
        Case(
            "virusTotalApi",
            {"accessToken": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
            "GET",
            "https://www.virustotal.com/api/v3/popular_threat_categories",
            doc="https://docs.virustotal.com/reference/authentication",
            headers={
                "x-apikey": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
            },
        ),
        id="virusTotalApi",
    ),
    pytest.param(
        Case(
            "wolframAlphaApi",
            {"appId": "KT7XYZ-ABCDEF1234"},
            "GET",
            "https://api.wolframalpha.com/v1/simple",
            doc="https://products.wolframalpha.com/simple-api/documentation",
            query={"appid": "KT7XYZ-ABCDEF1234", "i": "How much is 1 1"},
        ),
        id="wolframAlphaApi",
    ),
    pytest.param(
        Case(  # v2: POST, api_key in a form body
            "uptimeRobotApi",
            {"apiKey": "u1234567-kT0123456789abcdef"},
            "POST",
            "https://api.uptimerobot.com/v2/getAccountDetails",
            doc="https://uptimerobot.com/api/legacy/",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            form_body={"api_key": "u1234567-kT0123456789abcdef"},
        ),
        id="uptimeRobotApi",
    ),
    pytest.param(
        Case(  # the personal token as a GET parameter
            "beeminderApi",
            {"authToken": "kTbeeminder0123456"},
            "GET",
            "https://www.beeminder.com/api/v1/users/me.json",
            doc="https://api.beeminder.com/#personal-authentication-token",
            query={"auth_token": "kTbeeminder0123456"},
        ),
        id="beeminderApi",
        marks=pytest.mark.xfail(
            strict=True,
            reason="Beeminder takes auth_token as a GET or POST parameter; the table's "
            "authenticate puts it in a body, which keyturn sends as JSON on a GET",
        ),
    ),
]


@dataclass(frozen=True)
class Sent:
    """What keyturn built, what went on the (mock) wire, and what send_probe said."""

    built: ProbeRequest
    wire: httpx.Request
    result: ProbeResult


_SENT: dict[str, Sent] = {}


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """httpx's env proxies would route around the mock transport: none here."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("all_proxy", raising=False)


def probe_of(name: str) -> TypeProbe:
    found = type_probe(name)
    assert found is not None, f"{name} is not in the table"
    return found


def send(case: Case) -> Sent:
    """Build the case's request and send it on a mock transport (once per case)."""
    if case.id not in _SENT:
        probe = probe_of(case.type_name)
        built = build_request(probe, case.values)
        seen: list[httpx.Request] = []

        def answer(request: httpx.Request) -> httpx.Response:
            request.read()
            seen.append(request)
            return httpx.Response(200, json={})

        result = send_probe(probe, built, transport=httpx.MockTransport(answer), attempts=1)
        assert len(seen) == 1, result.detail
        _SENT[case.id] = Sent(built, seen[0], result)
    return _SENT[case.id]


def secrets_of(case: Case) -> list[str]:
    probe = probe_of(case.type_name)
    return [str(case.values[f]) for f in probe.secret_fields if case.values.get(f)]


def encodings_of(secret: str) -> set[str]:
    """The forms a secret may take in a request: raw, URL-encoded, base64."""
    return {
        secret,
        quote(secret, safe=""),
        quote(secret),
        quote_plus(secret),
        base64.b64encode(secret.encode()).decode("ascii"),
    }


_QUERY_VALUE = re.compile(r"(?:[A-Za-z0-9\-._~!$'()*,;:@/?]|%[0-9A-Fa-f]{2})*")


def raw_query_value(url: httpx.URL, name: str) -> str:
    """The one raw (still encoded) value of a query parameter."""
    found = [
        value
        for key, _, value in (part.partition("=") for part in url.query.decode().split("&"))
        if unquote(key) == name
    ]
    assert len(found) == 1, f"query parameter {name!r} occurs {len(found)} times in {url}"
    return found[0]


def assert_wire_matches(case: Case, wire: httpx.Request) -> None:
    assert wire.method == case.method
    assert str(wire.url).split("?")[0] == case.url
    query = parse_qs(wire.url.query.decode(), keep_blank_values=True)
    for name, value in case.query.items():
        assert query.get(name) == [value], f"query {name}: {query.get(name)!r}"
        if value in secrets_of(case):  # encoded so that nothing in it reads as syntax
            raw = raw_query_value(wire.url, name)
            assert _QUERY_VALUE.fullmatch(raw), f"{name}={raw} is not URL-encoded"
            assert unquote(raw) == value
    for name, expected in case.headers.items():
        accepted = expected if isinstance(expected, tuple) else (expected,)
        assert wire.headers.get(name) in accepted, f"header {name}: {wire.headers.get(name)!r}"
    if case.basic is not None:
        user, password = case.basic
        assert wire.headers.get("Authorization") == basic_header(user, password)
        encoded = wire.headers["Authorization"].removeprefix("Basic ")
        assert base64.b64decode(encoded).decode() == f"{user}:{password}"
    content_type = wire.headers.get("Content-Type", "")
    if case.json_body is not ABSENT:
        assert content_type.startswith("application/json"), content_type
        assert json.loads(wire.content) == case.json_body
    elif case.form_body is not None:
        assert content_type.startswith("application/x-www-form-urlencoded"), content_type
        form = parse_qs(wire.content.decode(), keep_blank_values=True)
        assert form == {name: [value] for name, value in case.form_body.items()}
    else:
        assert wire.content == b"", f"unexpected body {wire.content!r}"


def assert_h11_can_send(wire: httpx.Request) -> None:
    """What httpx's HTTP/1.1 layer would refuse (a header value it finds illegal...)."""
    h11.Request(method=wire.method, target=wire.url.raw_path, headers=list(wire.headers.raw))


@pytest.mark.parametrize("case", VENDOR_CASES)
def test_the_request_is_what_the_vendor_documents(case: Case) -> None:
    sent = send(case)
    assert sent.result.ok, sent.result.detail
    try:
        assert_wire_matches(case, sent.wire)
        assert_h11_can_send(sent.wire)
    except (AssertionError, h11.LocalProtocolError) as exc:
        raise AssertionError(f"{exc}\n(vendor documentation: {case.doc})") from exc


# The same cases without their vendor-difference marks: masking holds whatever the address.
UNMARKED_CASES = [pytest.param(*param.values, id=param.id) for param in VENDOR_CASES]


@pytest.mark.parametrize("case", UNMARKED_CASES)
def test_describe_never_shows_a_secret_in_any_encoding(case: Case) -> None:
    built = build_request(probe_of(case.type_name), case.values)
    secrets = secrets_of(case)
    assert secrets
    text = built.describe(secrets)
    forms = set().union(*(encodings_of(secret) for secret in secrets))
    if built.basic_auth is not None:
        forms |= encodings_of(f"{built.basic_auth[0]}:{built.basic_auth[1]}")
    shown = sorted(form for form in forms if form in text)
    assert not shown, f"{text!r} shows {shown}"


@pytest.mark.parametrize("case", UNMARKED_CASES)
def test_the_probe_verdict_never_shows_a_secret(case: Case) -> None:
    detail = send(case).result.detail
    shown = sorted(
        form for secret in secrets_of(case) for form in encodings_of(secret) if form in detail
    )
    assert not shown, f"{detail!r} shows {shown}"


@pytest.mark.parametrize(
    ("key", "host"),
    [
        (MAILCHIMP_KEY, "us21.api.mailchimp.com"),
        ("fedcba9876543210fedcba9876543210-us6", "us6.api.mailchimp.com"),
        ("0123456789abcdef0123456789abcdef-us10", "us10.api.mailchimp.com"),
    ],
)
def test_mailchimp_host_is_the_datacenter_at_the_end_of_the_key(key: str, host: str) -> None:
    # https://mailchimp.com/developer/marketing/docs/fundamentals/#api-structure
    request = build_request(probe_of("mailchimpApi"), {"apiKey": key})
    assert request.url == f"https://{host}/3.0/lists"


def test_the_expectations_cover_forty_fixed_host_types() -> None:
    names = {param.values[0].type_name for param in VENDOR_CASES}
    assert len(names) >= 40
    code_derived = {n for n in names if _entry(n).get("authenticate_from") == "code"}
    assert {"anthropicApi", "notionApi", "trelloApi", "pushoverApi"} <= code_derived
    kinds = {kind for n in names for kind in (probe_of(n).authenticate or {}).get("properties", {})}
    assert {"headers", "qs", "auth", "body"} <= kinds


# ---- every type of the table ----

_FIELD = re.compile(r"\$credentials\??\.([A-Za-z_][A-Za-z0-9_]*)")


def _entry(name: str) -> dict[str, Any]:
    """The type's raw entry in the table (authenticate_from, the untouched templates)."""
    entry: dict[str, Any] = _table()[name]
    return entry


def sample_secret(field_name: str) -> str:
    return f"kt-{field_name}-S3cr3t+/=&%"


def _placed(request: ProbeRequest, where: str, key: str, fields: dict[str, Any]) -> str | None:
    """The value a request holds where `authenticate` puts one, or None."""
    if where == "auth":
        if request.basic_auth is None:
            return None
        return request.basic_auth[0] if key == "username" else request.basic_auth[1]
    name = str(render(key, fields))
    if where == "headers":
        return request.headers.get(name)
    if where == "qs":
        return request.params.get(name)
    if where == "body" and isinstance(request.body, dict):
        value = request.body.get(name)
        return None if value is None else str(value)
    return None


def misplaced_secrets(
    probe: TypeProbe, request: ProbeRequest, samples: dict[str, str]
) -> list[str]:
    """Where `authenticate` puts a secret (its value, with these fields, holds one) but the
    built request does not hold it; and a type whose request carries no secret at all."""
    fields = {**probe.defaults, **samples}
    authenticate = probe.authenticate_for(fields)
    if not authenticate:  # the test request must carry a secret itself
        carried = json.dumps([request.url, request.headers, request.params, request.body])
        if any(sample in carried for sample in samples.values()):
            return []
        return [f"{probe.type_name}: no authenticate, and no secret in the test request"]
    problems, placed_any = [], False
    for where, entries in (authenticate.get("properties") or {}).items():
        for key, template in (entries or {}).items():
            if not any(f in samples for f in _FIELD.findall(str(template))):
                continue  # a value built from non-secret fields only
            value = str(render(template, fields))  # a ternary may pick a non-secret field
            wanted = [sample for sample in samples.values() if sample in value]
            placed = _placed(request, where, key, fields)
            if wanted and (placed is None or not all(s in placed for s in wanted)):
                problems.append(f"{probe.type_name}: {where}.{key} is {placed!r}")
            placed_any = placed_any or bool(wanted)
    if not placed_any:
        problems.append(f"{probe.type_name}: authenticate puts no secret in the request")
    return problems


def test_every_type_builds_or_says_why_and_puts_its_secret_where_authenticate_says() -> None:
    built, unbuildable, problems = [], [], []
    for name in probed_types():
        probe = probe_of(name)
        samples = {f: sample_secret(f) for f in probe.secret_fields}
        try:
            request = build_request(probe, samples)
        except ExpressionError:
            unbuildable.append(name)  # needs a field a secret cannot give (a base URL...)
            continue
        except Exception as exc:  # anything else is a bug in keyturn
            problems.append(f"{name}: build_request raised {type(exc).__name__}: {exc}")
            continue
        built.append(name)
        if not request.url.startswith(("http://", "https://")):
            problems.append(f"{name}: the address {request.url!r} is not http(s)")
        problems += misplaced_secrets(probe, request, samples)
    assert not problems, "\n".join(problems)
    assert len(built) + len(unbuildable) == len(probed_types())
    assert len(built) >= 100, f"only {len(built)} types build from defaults and secrets"


def test_no_generator_sentinel_is_left_in_the_table() -> None:
    leftovers = sorted(
        name
        for name in probed_types()
        if "@@KT" in json.dumps([_entry(name)["test"], _entry(name)["authenticate"]])
    )
    assert leftovers == []


@pytest.mark.parametrize(
    ("type_name", "values", "missing"),
    [
        ("freshdeskApi", {"apiKey": "kTfreshdesk0123"}, "domain"),
        ("zendeskApi", {"apiToken": "kTzendesk0123", "email": "ada@example.com"}, "subdomain"),
        ("shopifyAccessTokenApi", {"accessToken": "shpat_kT0123"}, "shopSubdomain"),
    ],
)
def test_an_empty_subdomain_field_is_named_like_an_empty_base_url(
    type_name: str, values: dict[str, str], missing: str
) -> None:
    with pytest.raises(ExpressionError, match=missing):
        build_request(probe_of(type_name), values)
