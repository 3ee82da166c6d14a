"""Known token formats: credentials whose structure alone tells which service they belong to.

keyturn's own table, written from the vendors' documented formats (prefix, length, alphabet,
checksum position). Other scanners' public rule sets (gitleaks, kingfisher) were read only to
learn which services have a recognisable format; every pattern, name and example here is
keyturn's. Where a vendor documents the format the pattern follows it exactly; where it only
announces a prefix, the body length is a range (see the notes on the unsure ones below).

Each `TokenFormat` has:

- `name`: the service and the kind of credential, as a finding names it;
- `pattern`: a regex for the token itself (no surrounding context; URLs for webhooks that are
  credentials). Every pattern compiles with google-re2 and with Python's `re`: no lookarounds,
  no backreferences, repetition bounds at most 1000;
- `keywords`: lowercase literals, one of which appears (case-insensitively) in any text the
  pattern can match: a cheap prefilter, so a pattern runs only on text that contains one;
- `example`: a made-up token of the right shape (random characters, never a real key), written
  in two or more pieces so that no scanner finds a token in this source file;
- `distinctive`: the format alone proves a credential (a unique prefix, checksum marker or
  signature). False for shapes that also occur in ordinary data (a JWT is also a public id
  token or a Supabase anon key; `live_` + 30 characters is also an identifier): those need the
  scanner's context rules before they are reported.

Files are scanned for these by detect/token_scan.py: a prefilter (Hyperscan, or re2's keyword
set) says which formats occur in a file, then each of those runs alone. One re2 alternation of
the whole table is far slower (0.02 MB/s: the formats that open with a long run of characters,
like Azure's identifiable keys, blow up its automaton; without them, about 50 MB/s on files
full of tokens, since every token it has not met costs its automaton new states).

Overlaps on purpose: an Azure DevOps PAT is also an Azure annotated key (both carry the
`JQQJ9` signature; report the more specific name), and a Google Chat webhook URL carries a
Google API key.

Left out (no structure of their own, so only context can find them; the scanner's place and
name rules handle them):

- private keys (PEM, OpenSSH, PGP, PuTTY, JWK): a separate detector handles the blocks;
- secrets that are bare hex, base64 or UUIDs: AWS secret access keys, Azure legacy storage
  keys, Datadog, Mistral, Cohere, Mailjet, Postmark, Algolia, Twilio auth tokens, Heroku and
  Snyk and Codecov UUID keys, IBM Cloud API keys, Linode, Vultr, Hetzner, Fastly, Travis CI,
  Drone, Zendesk, Honeycomb, PagerDuty, Opsgenie, Rollbar, Bugsnag, Sentry's old 64-hex tokens,
  Cloudflare's pre-2026 tokens, Atlassian's pre-2023 tokens, Contentful delivery tokens,
  Confluent, Twitch, LinkedIn and Twitter consumer secrets, exchange keys (Kraken, KuCoin,
  Bittrex, Coinbase), Plaid client secrets, Sendbird, Sumo Logic, and the client id/secret pairs
  gitleaks finds by the service's name next to them (Asana, Bitbucket, Discord, Looker, ...);
- prefixes too short or too common to prove anything: Okta (`00` + 40), LaunchDarkly (`api-` /
  `sdk-` + UUID), GoCardless (`live_` + 40), Yandex static keys (`YC` + 38), Beamer (`b_`),
  Pushbullet (`o.`), Klaviyo (`pk_` + 34, shared with public-key naming), Nightfall (`NF-`);
- public by design: Stripe and Mapbox publishable keys, Supabase publishable keys, PostHog
  project keys, Sentry DSNs, Twilio account SIDs, Google OAuth client ids, Firebase web config,
  Razorpay key ids, Braintree tokenization keys, Flutterwave public keys, age recipients;
- no literal to anchor a prefilter on: Discord bot tokens (three base64url parts), Meta app
  tokens (`app-id|app-secret`), base64-encoded JWTs;
- structure not documented tightly enough to write a tight pattern: Adyen API keys, Checkout.com
  keys, Neon API keys, Cloudflare Access service tokens, DigitalOcean system tokens, Authress
  keys, Hex.pm's proposed `hex_` keys, Honeycomb's newer ingest keys;
- not tokens: connection strings and URLs with a password (rule KT002), curl `-u`/`-H`
  arguments, `.netrc`, Kubernetes Secret manifests, NuGet config passwords.

Unsure (a range where the vendor only announced a prefix): Vercel (`vc?_` + 24..60), Netlify
(40 characters in all), Supabase `sb_secret_`, Render, Pinecone, Tavily, Firecrawl, Resend,
MailerSend, Paddle, Bitbucket `ATBB`, Atlassian `ATCTT3`, Trello `ATTA`, Salesforce, Intercom,
Anthropic OAuth tokens, Typeform, Figma, PostHog, Instagram, X bearer tokens, Yandex IAM
tokens, Google refresh tokens, Cloudflare's checksum (8 hex by observation, not by its docs).
"""

from __future__ import annotations

from typing import NamedTuple


class TokenFormat(NamedTuple):
    """One service's credential format. `example` is made up; see the module docstring."""

    name: str
    pattern: str
    keywords: tuple[str, ...]
    example: str
    distinctive: bool = True


_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


# Patterns say which characters they take, in ASCII: no negated class, `.` or `\s`. Hyperscan
# reads bytes and counts `\v` as a space; re2 reads UTF-8 characters and does not; with
# those constructs the same text could hold a token for one and not the other
# (tests/unit/test_token_scan.py checks that none is used).
def _t(
    name: str, pattern: str, keywords: str, example: str, *, distinctive: bool = True
) -> TokenFormat:
    return TokenFormat(name, pattern, tuple(keywords.split()), example, distinctive)


TOKEN_FORMATS: tuple[TokenFormat, ...] = (
    # Cloud providers
    _t(
        "AWS access key ID",
        r"\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}\b",
        "akia asia abia acca",
        "AKIA" + "GMOXY2VDXZNIKD77",
    ),
    _t(
        "AWS session token",
        r"\b(?:IQoJb3JpZ2luX2Vj|FwoGZXIvYXdzE)[A-Za-z0-9+/]{100,}={0,2}",
        "iqojb3jpz2lux2vj fwogzxivyxdze",
        "IQoJb3JpZ2luX2Vj"
        + "UZ+2pGkNVB6AfLS69+QfxGb4/sRgCSkaqMOtYhLGjcBmc07oqckYW4pE+cNJ"
        + "fIamyoExbng5Wzhs5aLU3pBAr+u643IudPVZtcxcU3rj0uVdG/tLDLUWVeBD"
        + "==",
    ),
    _t(
        "Amazon Bedrock API key (long-term)",
        r"\bABSK[A-Za-z0-9+/]{100,}={0,2}",
        "absk",
        "ABSKQmVkcm9ja0FQSUtleS"
        + "luVDx7sdIN5O/iW73z6fKrd6JL5LZw9He07IzS+wYimERNJBZCLPl3wnk/G1"
        + "z+plSH/hYVq5J4Aul+cv6f9Jmm+e1pUdaJFAOSY4lZLajgmrqc=",
    ),
    _t(
        "Amazon Bedrock API key (short-term)",
        r"\bbedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t[A-Za-z0-9+/]{40,}" + r"={0,2}",
        "bedrock-api-key-",
        "bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t"
        + "2EznVqKO2+noz/QEr1KnudB0JBMbhqCDbdKjocOpbMotQ/Pyw9uyAGmLDzO4"
        + "o/fq93xHZpQJvz6Xji2YsQjzNmvSq9V1dj3VSCkptiyWGJVqnlpkI1KVKqq1"
        + "=",
    ),
    _t(
        "Amazon MWS auth token",
        r"\bamzn\.mws\." + _UUID + r"\b",
        "amzn.mws.",
        "amzn.mws." + "2abf0695-d783-4af3-ac21-c35d9c75cb70",
    ),
    _t(
        "Login with Amazon access token",
        r"\bAtza\|[A-Za-z0-9_-]{80,}",
        "atza|",
        "Atza|"
        + "CseobWrAJxmDT5arY8ykGlws8pTLvJrh-iVsKJ11s3x7ZazzAAu5uHX7atHo"
        + "xtRYFGfn4lvJ99BRoTz4uMMJfDIWR8",
    ),
    _t(
        "Login with Amazon refresh token",
        r"\bAtzr\|[A-Za-z0-9_-]{80,}",
        "atzr|",
        "Atzr|"
        + "7fsFnIgOYEyLOCemfkCuzpANEgJU3YpGVLKrB0_Uf_5s28Er12Fqlv6VSfom"
        + "VniaTqq6ySkSybqwIPZw1tzYsUyNKf",
    ),
    _t(
        "Google API key",
        r"\bAIza[A-Za-z0-9_-]{35}",
        "aiza",
        "AIza" + "97ioRObebvX1fl7cZ9zjpJD_sWZQ2pVb3OU",
    ),
    _t(
        "Google OAuth client secret",
        r"\bGOCSPX-[A-Za-z0-9_-]{28}",
        "gocspx-",
        "GOCSPX-" + "3y3nl8dhKhgbVRTipXy_0ACtbnPd",
    ),
    _t(
        "Google OAuth access token",
        r"\bya29\.[A-Za-z0-9_-]{30,}",
        "ya29.",
        "ya29." + "R4pq_p9WfgTN3cdssRV8A4YsO_wt6MaOa6hkPucXPB3tNZsCrvUduY3ffEJX",
    ),
    _t(
        "Google OAuth refresh token",
        r"\b1//0[A-Za-z0-9_-]{60,}",
        "1//0",
        "1//0"
        + "YpvfPL1d20x3GcPmpsZl8UmWHbfwdgaxZ8N_VR4VnS2JLyZEBbFciYzdigBj"
        + "aEVCigd7gSkh-Jp3CoNh_MlQSNEPPg3SmNCynlL",
    ),
    _t(
        "Google Cloud Storage HMAC access ID",
        r"\bGOOG1[A-Z0-9]{56}\b",
        "goog1",
        "GOOG1E" + "J48W62JBECF4YIKHOGD1B2YH37U25V7QY71YB59URNSZCOLGDO7U6ZB",
    ),
    _t(
        "Firebase Cloud Messaging server key",
        r"\bAAAA[A-Za-z0-9_-]{7}:APA91b[A-Za-z0-9_-]{134}",
        ":apa91b",
        "AAAA"
        + "6zF6hEb:APA91bEMWDd6qvrABoKeQg58MStuqM_c82gvAP2FQX1RUQMheZAe"
        + "fnCK7GPp2ji_eqM0mo69JZwYa-5WUEZAo31kwk_rEwmYJFU_DTa8J76SbhJC"
        + "tllIG8ZMWkD255RG8Xzk73g7tlZe",
    ),
    _t(
        "Microsoft Entra ID client secret",
        r"[A-Za-z0-9_~.-]{3}[78]Q~[A-Za-z0-9_~.-]{31,34}",
        "8q~ 7q~",
        "NgD8Q~tlIOF6vdgho3ZU" + "nxjO6t5srDSyk5VJCrRG",
    ),
    _t(
        "Azure Storage account key",
        r"[A-Za-z0-9+/]{76}\+ASt[A-Za-z0-9+/]{5}[AQgw]==",
        "+ast",
        "gBV6VtLWQD27OvzN2YnJia6ZaMqCHpX3nGfcxwoeg+gQ"
        + "790JIC5ZrA9By01LxFXeQpNm6oJ6UsrF+AStcSqGQQ==",
    ),
    _t(
        "Azure Cosmos DB key",
        r"[A-Za-z0-9+/]{76}ACDb[A-Za-z0-9+/]{5}[AQgw]==",
        "acdb",
        "6Weukb1V9KdyOGfNQfKIylvUjmQIfgD7Mcr6pw+g7fUM"
        + "QcmXpz04HzJvW7nd9JCLljwUNaxBqQ6BACDbXuy9Jg==",
    ),
    _t(
        "Azure Batch key",
        r"[A-Za-z0-9+/]{76}\+ABa[A-Za-z0-9+/]{5}[AQgw]==",
        "+aba",
        "uYjlEtu+2KTLbpLJna5ZXvI04QuKbirRGmRKnhUVQgwB"
        + "LOnroVuQkBaD4G60kusPzAnxQp0USzst+ABa3mzSrw==",
    ),
    _t(
        "Azure API Management key",
        r"[A-Za-z0-9+/]{76}APIM[A-Za-z0-9+/]{5}[AQgw]==",
        "apim",
        "FeZMUJNVz+ZsZKPddfOwYGoWgsBQC/XaHxpr77Fi9EBP"
        + "Lz9Gukw6zpwZtuSpKgwYtq6iyh1zKmrvAPIMd1aMjA==",
    ),
    _t(
        "Azure Machine Learning web service key",
        r"[A-Za-z0-9+/]{76}\+AMC[A-Za-z0-9+/]{5}[AQgw]==",
        "+amc",
        "dzwESM3BeJkjePl4U0Tj9WCy5q9DamUMphn85bomP4/0"
        + "zsEDpoAoqjY4d1T73HfzXs4qRQMHseU1+AMCNFnnsQ==",
    ),
    _t(
        "Azure Functions key",
        r"[A-Za-z0-9_-]{44}AzFu[A-Za-z0-9_-]{5}[AQgw]==",
        "azfu",
        "I71vMvIUuMXx_Pe6YDVyDrEmgcl9" + "GjqUX56XFmCyph7TAzFuQkTyUg==",
    ),
    _t(
        "Azure AI Search key",
        r"\b[A-Za-z0-9]{42}AzSe[A-D][A-Za-z0-9]{5}\b",
        "azse",
        "xUzNgyhjONZSX5VhB4NEQdnrTK" + "UsZDy0X3XISpWBXSAzSeBh0bZj",
    ),
    _t(
        "Azure Service Bus key",
        r"[A-Za-z0-9+/]{33}\+ASb[A-P][A-Za-z0-9+/]{5}=",
        "+asb",
        "3WoNgEwo6waYngP6yl/or5" + "NFVF70yqPX8+ASbDUyCQO=",
    ),
    _t(
        "Azure Event Hubs key",
        r"[A-Za-z0-9+/]{33}\+AEh[A-P][A-Za-z0-9+/]{5}=",
        "+aeh",
        "5m23VPjzYJ2rAs8QSNuZRo" + "+M7gaXNKrAF+AEhKJJ04Z=",
    ),
    _t(
        "Azure Relay key",
        r"[A-Za-z0-9+/]{33}\+ARm[A-P][A-Za-z0-9+/]{5}=",
        "+arm",
        "3thBykcdJljDSuW+QH1fY7" + "Ta9fSMB2NaD+ARmPdTsNQ=",
    ),
    _t(
        "Azure IoT key",
        r"[A-Za-z0-9+/]{33}AIoT[A-P][A-Za-z0-9+/]{5}=",
        "aiot",
        "KBr/sZF90H4b/wbrbHbNyI" + "quG1yPuldLIAIoTFmR5Xd=",
    ),
    _t(
        "Azure Cache for Redis key",
        r"[A-Za-z0-9+/]{33}AzCa[A-P][A-Za-z0-9+/]{5}=",
        "azca",
        "F4tY+M/gs25hhwSMM50wQo" + "+Xw15lc6O0PAzCaEVaJ1o=",
    ),
    _t(
        "Azure Event Grid key",
        r"[A-Za-z0-9+/]{33}AZEG[A-P][A-Za-z0-9+/]{5}=",
        "azeg",
        "WhHo0ti9P2K5IWo74dj5rB" + "li1CmafXz1CAZEGAvSY8q=",
    ),
    _t(
        "Azure Container Registry key",
        r"[A-Za-z0-9+/]{42}\+ACR[A-D][A-Za-z0-9+/]{5}",
        "+acr",
        "WxjiOblKGqhR5hJ8rn/y6UQS9P" + "yNd/j+TmU69kjbbh+ACRCKDXKf",
    ),
    _t(
        "Azure DevOps personal access token",
        r"\b[A-Za-z0-9]{52}JQQJ99[A-Za-z0-9][A-L][A-Za-z0-9]{12}AAAAAZDO" + r"[A-Za-z0-9]{4}\b",
        "jqqj99",
        "9dmGD5HgaG46ZYKhf0ndFODes25Pv6Xoo1DF0e5foB" + "TzyZuq996eJQQJ99JGa3fk6q0ghnZBAAAAAZDOUBIT",
    ),
    _t(
        "Azure annotated service key (AI services, Maps, Communication...)",
        r"\b[A-Za-z0-9]{52}JQQJ9[9DH][A-Za-z0-9][A-L][A-Za-z0-9]{16}[A-Za-z]"
        + r"[A-Za-z0-9]{7}(?:[A-Za-z0-9]{2}==)?",
        "jqqj9",
        "cbEU8GSHTiwVqW27jrRlAcmUM2A2CrfaGtvzWHjvhT" + "c11EPnZ3PEJQQJ99iC4Hrlu3HOsg16AAABACOGXMY1",
    ),
    _t(
        "Azure Storage connection string",
        r"DefaultEndpointsProtocol=https?;AccountName=[a-z0-9]{3,24};"
        + r"AccountKey=[A-Za-z0-9+/]{86}==",
        "accountkey=",
        "DefaultEndpointsProtocol=https;AccountName="
        + "mki3xb1yzvaf;AccountKey=YFyaAGxthW9cO34xwpHLwhnD88iZghDbzoYV"
        + "WkItKVziCM0nmUqXcxHEm4MmeiNDph13R7kqjtkJlJiiNaL0sI==",
    ),
    _t(
        "Azure Service Bus / Event Hubs connection string",
        r"Endpoint=sb://[A-Za-z0-9-]{1,50}\.servicebus\.windows\.net/?;"
        + r"SharedAccessKeyName=[!#-&(-:<-~]+;"  # printable ASCII but ; " ' (see _t)
        + r"SharedAccessKey=[A-Za-z0-9+/]{43}=",
        "sharedaccesskey=",
        "Endpoint=sb://"
        + "fyr3p0qmhi.servicebus.windows.net/;SharedAccessKeyName=RootM"
        + "anageSharedAccessKey;SharedAccessKey=7CmNAWmaxv+09e9SbEc9uad"
        + "1vgrR+tGZIjPgE/EPvvy=",
    ),
    _t(
        "Azure App Configuration connection string",
        r"Endpoint=https://[A-Za-z0-9-]{1,50}\.azconfig\.io;"
        + r"Id=[!#-&(-:<-~]{4,64};Secret=[A-Za-z0-9+/]{40,}={0,2}",
        ".azconfig.io",
        "Endpoint=https://"
        + "vk24bnmnt.azconfig.io;Id=5dsL-l0-s0:xqaKMVXOwkvjDvn/7Pq4;Sec"
        + "ret=c8j6XQvGh5GNU1cp+wsKY+t1r5+BxFOkNHez6zIdBrY=",
    ),
    _t(
        "DigitalOcean personal access token",
        r"\bdop_v1_[a-f0-9]{64}\b",
        "dop_v1_",
        "dop_v1_" + "b820bc72d26a1a49896b9fd91dd4a6a0b1f325672ebad60b51eb43cb6704" + "6b8e",
    ),
    _t(
        "DigitalOcean OAuth access token",
        r"\bdoo_v1_[a-f0-9]{64}\b",
        "doo_v1_",
        "doo_v1_" + "477d9d6d2fe2dd1c74401aea82c964861e0761676da21e563eee18739505" + "3a11",
    ),
    _t(
        "DigitalOcean OAuth refresh token",
        r"\bdor_v1_[a-f0-9]{64}\b",
        "dor_v1_",
        "dor_v1_" + "08b85b71b6d4f893566a015b8bcec7e8b7cc05b417b241f426e44af6286c" + "5c23",
    ),
    _t(
        "Alibaba Cloud AccessKey ID",
        r"\bLTAI[A-Za-z0-9]{12,20}\b",
        "ltai",
        "LTAI" + "OI5XVzVzdMS4w4we1Jjo",
    ),
    _t(
        "Tencent Cloud SecretId",
        r"\bAKID[A-Za-z0-9]{32}\b",
        "akid",
        "AKID" + "ZcMJETN7L6mcqRvoQ8lLLfu09RMZBzXH",
    ),
    _t("Scaleway access key ID", r"\bSCW[A-Z0-9]{17}\b", "scw", "SCW" + "OT1AZL4U43LZYJXF6"),
    _t(
        "Heroku API key (HRKU- with UUID)",
        r"\bHRKU-" + _UUID + r"\b",
        "hrku-",
        "HRKU-" + "f8eafbf9-c45f-423a-a277-18e9c31417ae",
    ),
    _t(
        "Heroku API key (HRKU- opaque)",
        r"\bHRKU-[A-Za-z0-9_-]{60}",
        "hrku-",
        "HRKU-AA" + "rlUwZJQl9QzF2B1J3DVRj3w1RPuTcWXd5us9i3kqC69Kovrj93HfFGLLcl",
    ),
    _t(
        "Fly.io macaroon token",
        r"\bfm(?:1[ar]|2)_[A-Za-z0-9+/]{100,}={0,3}",
        "fm1a_ fm1r_ fm2_",
        "fm2_"
        + "Oh+tQPezX12Kp6IraVda+t+MAPTfnAM/7DiKGdyjnO08tMDoVi+uSY1Tu6XY"
        + "z71mok0GYMddnApWbwmnBrVQFzoS4jm54GGl5ivaXfOdEXfTOv=",
    ),
    _t(
        "Fly.io OAuth token",
        r"\bfo1_[A-Za-z0-9_-]{43}",
        "fo1_",
        "fo1_" + "zhhVX5H_xWD5TeOZ5mq3JHqTQWj2aTerah0XWreX-eB",
    ),
    _t(
        "Vercel personal access token",
        r"\bvcp_[A-Za-z0-9]{24,60}\b",
        "vcp_",
        "vcp_" + "FFsSffsQqkSBlhfl8oq5gWmj",
    ),
    _t(
        "Vercel integration token",
        r"\bvci_[A-Za-z0-9]{24,60}\b",
        "vci_",
        "vci_" + "K9WaWlNnrTaGlmG80qRSV0Ww",
    ),
    _t(
        "Vercel app access token",
        r"\bvca_[A-Za-z0-9]{24,60}\b",
        "vca_",
        "vca_" + "TBIxrgIdyqbSO2s0vJgtckGm",
    ),
    _t(
        "Vercel app refresh token",
        r"\bvcr_[A-Za-z0-9]{24,60}\b",
        "vcr_",
        "vcr_" + "VJC2ajate7tPqVrPkLDkhbt9",
    ),
    _t(
        "Vercel AI Gateway API key",
        r"\bvck_[A-Za-z0-9]{24,60}\b",
        "vck_",
        "vck_" + "I1NyVyO6cKQp3tnI7GdmEw1n",
    ),
    _t(
        "Netlify access token",
        r"\bnf[pcoub]_[A-Za-z0-9]{36}\b",
        "nfp_ nfc_ nfo_ nfu_ nfb_",
        "nfp_" + "HAjURvMSe033ASEtI6rfS1hHd2TYWkYywShc",
    ),
    _t(
        "Cloudflare Global API Key",
        r"\bcfk_[A-Za-z0-9]{40}[a-f0-9]{8}\b",
        "cfk_",
        "cfk_" + "eQqhyOoJUfkV3iD8BgbuOzrFH59Lb3yGOnhYDYcq7f7c594c",
    ),
    _t(
        "Cloudflare user API token",
        r"\bcfut_[A-Za-z0-9]{40}[a-f0-9]{8}\b",
        "cfut_",
        "cfut_" + "wpk4UmQtJ3no561Z17ZHUPJcviKrxiDaULQbbQBZfcb7e31e",
    ),
    _t(
        "Cloudflare account API token",
        r"\bcfat_[A-Za-z0-9]{40}[a-f0-9]{8}\b",
        "cfat_",
        "cfat_" + "igM1nGUTv67xFOPh79kLGp2Q4fXYyfPH8OWjO2KX219a8307",
    ),
    _t(
        "Cloudflare Origin CA key",
        r"\bv1\.0-[a-f0-9]{24}-[a-f0-9]{146}\b",
        "v1.0-",
        "v1.0-"
        + "7ba4c2be3782db3a4406ae79-0274626d1926c1f083764d44d9cf9242cc3"
        + "ca3a94f88e3241ce8bcfdfb6d293b0d587a765840301fe7e84bd0653605a"
        + "25d8bae3e2abef0f08d3ac3621eec7cf269d53d24f5bc89ae76",
    ),
    _t(
        "Akamai EdgeGrid token",
        r"\bakab-[a-z0-9]{16}-[a-z0-9]{16}\b",
        "akab-",
        "akab-" + "ot70pp5ml9t6fj84-h1wqln4qanmhd98u",
    ),
    _t(
        "Supabase personal access token",
        r"\bsbp_[a-f0-9]{40}\b",
        "sbp_",
        "sbp_" + "8b8e3202ac0a41455b1924c2997d446575e636f3",
    ),
    _t(
        "Supabase secret API key",
        r"\bsb_secret_[A-Za-z0-9_-]{20,64}",
        "sb_secret_",
        "sb_secret_" + "9TwhSWUHS0W5qOYmUUsZkQ_j6GIelMl",
    ),
    _t(
        "PlanetScale service token",
        r"\bpscale_tkn_[A-Za-z0-9_.=-]{32,64}",
        "pscale_tkn_",
        "pscale_tkn_" + "ypiJ9n6Mxmp7Je4-Z2tAfL049bn1ewCnsuRvICu1xcC",
    ),
    _t(
        "PlanetScale OAuth token",
        r"\bpscale_oauth_[A-Za-z0-9_.=-]{32,64}",
        "pscale_oauth_",
        "pscale_oauth_" + "Not5nwxEA6YUZgcwONCzt7ORVZY4l_7kiAEq6_KCoOH",
    ),
    _t(
        "PlanetScale database password",
        r"\bpscale_pw_[A-Za-z0-9_.=-]{32,64}",
        "pscale_pw_",
        "pscale_pw_" + "mCaVjp-vkOoFL-ZjSR6beh5TaGCfamUKCQyyOqjj3LW",
    ),
    _t(
        "Databricks personal access token",
        r"\bdapi[a-f0-9]{32}(?:-[0-9])?\b",
        "dapi",
        "dapi" + "a2619c7d7c01674df6fb20e180fa33b9-2",
    ),
    _t(
        "Render API key",
        r"\brnd_[A-Za-z0-9]{32,40}\b",
        "rnd_",
        "rnd_" + "qSm18B3TGDT2ari0jKOgyK76gwLSSM71",
    ),
    _t(
        "MongoDB Atlas service account secret",
        r"\bmdb_sa_sk_[A-Za-z0-9_-]{40}",
        "mdb_sa_sk_",
        "mdb_sa_sk_" + "ohPmsBHvWwQGsnABbVOXE69rz136_V5f-JgnBWJI",
    ),
    _t(
        "OpenShift user token",
        r"\bsha256~[A-Za-z0-9_-]{43}",
        "sha256~",
        "sha256~" + "Qgr4ONk_Ui-lPHY3h7jrgAKOEL0jI6P4D25QLumk3V6",
    ),
    _t(
        "Cloudinary URL with API secret",
        r"cloudinary://[0-9]{12,16}:[A-Za-z0-9_-]{20,40}@[A-Za-z0-9_-]+",
        "cloudinary://",
        "cloudinary://" + "811883267707179:DVEjG8Mb7tX9FdL95GNVJ_lKpO5@oxzhqc5vd",
    ),
    # Source hosting, CI and package registries
    _t(
        "GitHub personal access token (classic)",
        r"\bghp_[A-Za-z0-9]{36}\b",
        "ghp_",
        "ghp_" + "IM1K2tYLnGLbnbNBfIMNhQQEQ3s3cU5kCeG2",
    ),
    _t(
        "GitHub fine-grained personal access token",
        r"\bgithub_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}\b",
        "github_pat_",
        "github_pat_"
        + "Vrh3lwVcoWpgeyMjtX0U0N_hS5q1xodzYOb7QDwBijCP5xmkT2s9owaEED0u"
        + "lABHdEBaJMWLBKIvlqkxYU",
    ),
    _t(
        "GitHub OAuth access token",
        r"\bgho_[A-Za-z0-9]{36}\b",
        "gho_",
        "gho_" + "ZbrQGPuK6lOntoO0wp1ttTdspvrnFtfTcpGd",
    ),
    _t(
        "GitHub App user access token",
        r"\bghu_[A-Za-z0-9]{36}\b",
        "ghu_",
        "ghu_" + "iTGWUF8hPPdytoI5d6C1qF2afV385sj85HHL",
    ),
    _t(
        "GitHub App installation token",
        r"\bghs_[A-Za-z0-9]{36}\b",
        "ghs_",
        "ghs_" + "IfeGiSznVXC4YwfJGpdMRFtRNRhL3ZtX4Iak",
    ),
    _t(
        "GitHub refresh token",
        r"\bghr_[A-Za-z0-9]{36,76}\b",
        "ghr_",
        "ghr_" + "kXDVFfxXSSnOXqdtyHFvvricLINK2z3i5to0",
    ),
    _t(
        "GitLab personal, project or group access token",
        r"\bglpat-[A-Za-z0-9_-]{20}(?:[A-Za-z0-9_-]{7,}\.(?:[0-9a-z]{2}" + r"\.)?[0-9a-z]{9})?",
        "glpat-",
        "glpat-" + "O-63TJkGmATgdUHqPYNWVURA2NfurqKREWQyQR.01.zrdexfuh9",
    ),
    _t(
        "GitLab OAuth application secret",
        r"\bgloas-[A-Za-z0-9_-]{64}",
        "gloas-",
        "gloas-" + "bqlFCwsmwIb8cWncANQ4TcZdCKQ927nP7sHu8CbMMYI5hFOcOHqlwZSC-5oX" + "TLaH",
    ),
    _t(
        "GitLab deploy token",
        r"\bgldt-[A-Za-z0-9_-]{20}",
        "gldt-",
        "gldt-" + "AOolnbnXBtg-f1znhCoQ",
    ),
    _t(
        "GitLab runner authentication token",
        r"\bglrt-(?:t[0-9]_[A-Za-z0-9_-]{27,}\.(?:[0-9a-z]{2}\.)?[0-9a-z]{9}"
        + r"|[A-Za-z0-9_-]{20})",
        "glrt-",
        "glrt-t1_" + "mKAOO9mP63qJlo5G8lrg4Ki1VT1cP1.va0xbe6id",
    ),
    _t(
        "GitLab runner registration token",
        r"\bGR1348941[A-Za-z0-9_-]{20}",
        "gr1348941",
        "GR1348941" + "v1EEaAsvYoQCEsC2_0R3",
    ),
    _t(
        "GitLab CI/CD job token",
        r"\bglcbt-[A-Za-z0-9]{1,5}_[A-Za-z0-9_-]{20}",
        "glcbt-",
        "glcbt-" + "R6_TPSubLXBDp5mD0V8o5a9",
    ),
    _t(
        "GitLab pipeline trigger token",
        r"\bglptt-[a-f0-9]{40}\b",
        "glptt-",
        "glptt-" + "fabb3714d57a3b9850ee251f9f2833189abcbff2",
    ),
    _t("GitLab feed token", r"\bglft-[A-Za-z0-9_-]{20}", "glft-", "glft-" + "Bt6ukYLY2kl4IqrHJwQA"),
    _t(
        "GitLab incoming email token",
        r"\bglimt-[A-Za-z0-9_-]{25}",
        "glimt-",
        "glimt-" + "iP3hZH_gS0TaLmmwzqGf0F61i",
    ),
    _t(
        "GitLab agent for Kubernetes token",
        r"\bglagent-[A-Za-z0-9_-]{50}",
        "glagent-",
        "glagent-" + "CVfGysN2pnKTHCC-aNB7jcvIQ3fjXzlWZ9Q8hGIG6q043xkTWd",
    ),
    _t(
        "GitLab SCIM token",
        r"\bglsoat-[A-Za-z0-9_-]{20}",
        "glsoat-",
        "glsoat-" + "V-dxvlGlmE_uocSsOg01",
    ),
    _t(
        "GitLab feature flags client token",
        r"\bglffct-[A-Za-z0-9_-]{20}",
        "glffct-",
        "glffct-" + "BApYaJCLsvngwmYkkPe5",
    ),
    _t(
        "GitLab session cookie",
        r"\b_gitlab_session=[a-f0-9]{32}\b",
        "_gitlab_session=",
        "_gitlab_session=" + "7e82889d68596a3d79c5320d089c7e60",
    ),
    _t(
        "Atlassian API token",
        r"\bATATT3xFfGF0[A-Za-z0-9_=-]{150,}\b",
        "atatt3",
        "ATATT3xFfGF0"
        + "XSp907qOsSZqLWeojsIjwdB0r4qhNSuS_riYbOz8Y3Ne3asGMjV0Qfur9sxK"
        + "bJbmkWPT1pyJ1xqNsGaVh1pbSp7fqM3NwqHGlPI9p4aHwciAi0M4r_xYRSma"
        + "UKaI7g3PSlni6wWt_rDqbhkq84lrY0EnuUUJsQirYUsQwKWEE0=D0FD12E6",
    ),
    _t(
        "Atlassian / Bitbucket access token",
        r"\bATCTT3xFfGN0[A-Za-z0-9_=-]{150,}\b",
        "atctt3",
        "ATCTT3xFfGN0"
        + "sYrB7jJFW39pYLt87pIs55xzzkcSyZOyAU5QdVZ-yuffOiW98yrK2QzE_tQP"
        + "9CusKJ5K2x2_rZDdeFdxJ9u_kdckpCF8Yi0tJS62rRY9XbH8ebxhpnJXk-7i"
        + "MAsj2dzLZGNM40IWRMBD9q8Xdzbc3eyX1-0HrZdYdZbOyjPGLK=2A6D892C",
    ),
    _t(
        "Bitbucket app password",
        r"\bATBB[A-Za-z0-9_=.-]{32}\b",
        "atbb",
        "ATBB" + "ErcYERgzaPNl6nlaUYydQz0K79BE035A",
    ),
    _t(
        "npm access token",
        r"\bnpm_[A-Za-z0-9]{36}\b",
        "npm_",
        "npm_" + "RYSWPCEWiWI49bFSZM2w1sbbtrPnujUOZ7yg",
    ),
    _t(
        "PyPI upload token",
        r"\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}",
        "pypi-ageichlwas5vcmc",
        "pypi-AgEIcHlwaS5vcmc" + "mDbkaEvtZb6tt_WM9gCoz8V7DwMER_vkFqp00N2M5pZcKj-WqjJmuGBpZJss",
    ),
    _t(
        "TestPyPI upload token",
        r"\bpypi-AgENdGVzdC5weXBpLm9yZw[A-Za-z0-9_-]{50,}",
        "pypi-agendgvzdc5wexbplm9yzw",
        "pypi-AgENdGVzdC5weXBpLm9yZw"
        + "WU5riswS5fQyEIbHoKI8NViHa4xpcyPvY38BGFvYfm64FWze5K0m5svWlGLz",
    ),
    _t(
        "RubyGems API key",
        r"\brubygems_[a-f0-9]{48}\b",
        "rubygems_",
        "rubygems_" + "5b6d366e0d229b49c337885c860a639ee8f750e1392417b0",
    ),
    _t(
        "NuGet API key",
        r"\boy2[a-z2-7]{43}\b",
        "oy2",
        "oy2" + "wes3lmi3agf3vjsljwkva5d6ypp5lxmd734wpe55qbu",
    ),
    _t(
        "Clojars deploy token",
        r"\bCLOJARS_[a-z0-9]{60}\b",
        "clojars_",
        "CLOJARS_" + "ym0my1v98xnbihejczzm6hhdmidrelvvs7it3b8deor2sayz1p3bnm52w2in",
    ),
    _t(
        "crates.io API token",
        r"\bcio[A-Za-z0-9]{32}\b",
        "cio",
        "cio" + "RZal71wMlZVwNuEge3fSvuvXY5S7le4O",
    ),
    _t(
        "Docker Hub personal access token",
        r"\bdckr_pat_[A-Za-z0-9_-]{27}",
        "dckr_pat_",
        "dckr_pat_" + "hgIjg9T_kDeA6SZ7Xdwgti9LaLn",
    ),
    _t(
        "Docker Hub organization access token",
        r"\bdckr_oat_[A-Za-z0-9_-]{32}",
        "dckr_oat_",
        "dckr_oat_" + "xd8ir0x76pNhchB6PP56d6n6o6zM1x34",
    ),
    _t(
        "JFrog Artifactory API key",
        r"\bAKCp[A-Za-z0-9]{69}\b",
        "akcp",
        "AKCp" + "Dsnfe7xzniytPGWjvSmkw51NZUOAzC5fd1KtmSm5mEqyJfnXQflPJMJc31DI" + "acD6psDkc",
    ),
    _t(
        "JFrog reference token",
        r"\bcmVmdGtuOjAxO[A-Za-z0-9]{51}\b",
        "cmvmdgtuojaxo",
        "cmVmdGtuOjAxO" + "xYGnPvOwM5GAvr6Mis5bP6KQrXf47LHXsxzxyiybRbj4WcLCi31",
    ),
    _t(
        "CircleCI personal API token",
        r"\bCCIPAT_[1-9A-HJ-NP-Za-km-z]{21,22}_[a-f0-9]{40}\b",
        "ccipat_",
        "CCIPAT_" + "K6xRiNurXBe5yHq467QV2W_a6479b4b65bfe04541514ea434944a9a93284" + "076",
    ),
    _t(
        "CircleCI project API token",
        r"\bCCIPRJ_[1-9A-HJ-NP-Za-km-z]{21,22}_[a-f0-9]{40}\b",
        "cciprj_",
        "CCIPRJ_" + "Ms5cgf4Tkkrt3kDCYagHYg_44b4c06130ea4650fb790e60c6e2846d4aa88" + "292",
    ),
    _t(
        "Buildkite API access token",
        r"\bbkua_[a-f0-9]{40}\b",
        "bkua_",
        "bkua_" + "57645fb246c91c52015d9a221c182073ac2bb885",
    ),
    _t(
        "Harness API key or token",
        r"\b(?:pat|sat)\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{20}" + r"\b",
        "pat. sat.",
        "pat." + "bcfXxa2PMm5ph0B8Xu31N7.z8RqqEKiQuJNcvKs2dauAzrB.656qNAgQIiWj" + "Jq8LLBbu",
    ),
    _t(
        "Octopus Deploy API key",
        r"\bAPI-[A-Z0-9]{26}\b",
        "api-",
        "API-" + "LH86E27NH15S2SKTLFBEAXNK74",
    ),
    _t(
        "SonarQube / SonarCloud token",
        r"\bsq[pua]_[a-f0-9]{40}\b",
        "squ_ sqp_ sqa_",
        "squ_" + "57509d4c8db45644624cf541f80e1a44d39d09f4",
    ),
    _t(
        "Sourcegraph access token",
        r"\bsgp_(?:(?:[a-f0-9]{16}|local)_)?[a-f0-9]{40}\b",
        "sgp_",
        "sgp_" + "5cc938729703bf02_6f9ab2978063f75ab728ff02b799adf1a5fcf124",
    ),
    _t(
        "Postman API key",
        r"\bPMAK-[a-f0-9]{24}-[a-f0-9]{34}\b",
        "pmak-",
        "PMAK-" + "6ec6e61f4426eb07adf96edf-2b3cbb03ee192ba3a7fdaa12f0cdb07f84",
    ),
    _t(
        "Prefect API key",
        r"\bpnu_[A-Za-z0-9]{36}\b",
        "pnu_",
        "pnu_" + "4MXbjeWSz1QumcQFs8ozpiG35k81lZ53p9eX",
    ),
    _t(
        "Pulumi access token",
        r"\bpul-[a-f0-9]{40}\b",
        "pul-",
        "pul-" + "924f725582d0ad3d3d19db424d1e14130c097a4b",
    ),
    _t(
        "HCP Terraform / Terraform Enterprise token",
        r"\b[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{60,70}",
        ".atlasv1.",
        "SCm6UUZkULgQfe.atlasv1.detGcBzavOz29_T4kU4NOU"
        + "W8j63l4IIITgfEvtKu5xMT4TZk_aSJ4eWFbCiaW06dRVG",
    ),
    _t(
        "Infracost API key",
        r"\bico-[A-Za-z0-9]{32}\b",
        "ico-",
        "ico-" + "xGU1batoIXlnT0ocYUeA2ETRCzUrzli8",
    ),
    _t(
        "ReadMe API key",
        r"\brdme_[a-z0-9]{70}\b",
        "rdme_",
        "rdme_" + "72u6xwvcdv20ymdprc243g0qu3t0lik8kelnl4gvd55bfl768gj01m9b6rjl" + "1vvh34o9z8",
    ),
    _t(
        "Scalingo API token",
        r"\btk-us-[A-Za-z0-9_-]{48}",
        "tk-us-",
        "tk-us-" + "jbsFD7Knyw4a78V2E6git9dRMbf5Ez9vTXLWxB24qUG6bw_G",
    ),
    _t(
        "Dependency-Track API key",
        r"\bodt_[A-Za-z0-9]{32,64}\b",
        "odt_",
        "odt_" + "u3lJD0isvwx0B181H0fgevAvB3ioEetn",
    ),
    _t(
        "StackHawk API key",
        r"\bhawk\.[A-Za-z0-9_-]{20}\.[A-Za-z0-9_-]{20}",
        "hawk.",
        "hawk." + "mzR9-HrGcedRuUzCiXxK.cqBlv1WxhRKpqjgXwm8v",
    ),
    _t(
        "Ionic access token",
        r"\bion_[A-Za-z0-9]{42}\b",
        "ion_",
        "ion_" + "YawOGSusfLbaV40NEoh2q3dCiP3i3O8LNB0BZnvVDz",
    ),
    # Secrets managers, identity and infrastructure
    _t(
        "HashiCorp Vault service token",
        r"\bhvs\.[A-Za-z0-9_-]{24,}",
        "hvs.",
        "hvs.CAESI"
        + "Nfje9_tLgkM-xU1DVMKP7RZi0lplbDgUYDMSB7JfpkIMncOguzFGp7P5sBhQ"
        + "vaRkNmK6tziSd0UPigmkdIr5Y_Qxo2",
    ),
    _t(
        "HashiCorp Vault batch token",
        r"\bhvb\.[A-Za-z0-9_-]{100,}",
        "hvb.",
        "hvb.AAAAAQ"
        + "A_qZsgeOD1Y5FWlYfjZq0oQ9sYeeIQm547PXszjRi3v3gfWf6sStbZhn7yf2"
        + "IgCGnfdei4l0UCGHjiq3lm4lqP_MYDtnC41-Gwl6tQ2XHHHmbEThsrR2nFVR"
        + "XSufDAVVc8tj6ACEgw4w",
    ),
    _t(
        "HashiCorp Vault recovery token",
        r"\bhvr\.[A-Za-z0-9_-]{24,}",
        "hvr.",
        "hvr." + "9bVzqgxIDch4IpnZ_tL7vgcI",
    ),
    _t(
        "Doppler personal token",
        r"\bdp\.pt\.[A-Za-z0-9]{40,44}\b",
        "dp.pt.",
        "dp.pt." + "Rwreaqyd8GGEJxl6nOvDzOGETidyEtWAqvPjZM7J0DT",
    ),
    _t(
        "Doppler service token",
        r"\bdp\.st\.(?:[a-z0-9_-]{2,35}\.)?[A-Za-z0-9]{40,44}\b",
        "dp.st.",
        "dp.st.prd." + "gxWhiGbnBLAEvt1Sb70uGlNGoFY21dV2FIdkDQ5HYGX",
    ),
    _t(
        "Doppler service account token",
        r"\bdp\.sa\.[A-Za-z0-9]{40,44}\b",
        "dp.sa.",
        "dp.sa." + "OBbdUsigl6Po0L6UWegpM2JQz0akbWX3ZI4T4ncQbaj",
    ),
    _t(
        "Doppler CLI token",
        r"\bdp\.ct\.[A-Za-z0-9]{40,44}\b",
        "dp.ct.",
        "dp.ct." + "sNfGOqwS2mZ3HciVaBd3x6gZrLnXkyuc6PG5EtL6ZzH",
    ),
    _t(
        "Doppler SCIM token",
        r"\bdp\.scim\.[A-Za-z0-9]{40,44}\b",
        "dp.scim.",
        "dp.scim." + "mN8ZJMCJib8uArgzVknho8mSJvQWJUenQjZDfHRWTpQ",
    ),
    _t(
        "Doppler audit token",
        r"\bdp\.audit\.[A-Za-z0-9]{40,44}\b",
        "dp.audit.",
        "dp.audit." + "a9xPvXVoEvA0hiBuaMSf5GVAqPHHG822R0J3vOCdWGA",
    ),
    _t(
        "1Password account Secret Key",
        r"\bA3-[A-Z0-9]{6}-(?:[A-Z0-9]{11}|"
        + r"[A-Z0-9]{6}-[A-Z0-9]{5})-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}\b",
        "a3-",
        "A3-" + "SVKT3Y-B04NGX-R2XRB-6XACX-28S3C-J1NYX",
    ),
    _t(
        "1Password service account token",
        r"\bops_eyJ[A-Za-z0-9+/]{250,}={0,3}",
        "ops_eyj",
        "ops_eyJ"
        + "JJx3PsWCr3DUbJH7TbG3H4xA7SL1oY62hm9vuIDwRExR+W+cFL7NYqedfYJk"
        + "kO1dAFDyeNo32H2NnJyhtfdBru1+3gg6jvPZVewGGPYvz12hrFOldUgXjZ4L"
        + "KvqW4JR08jocgucspW9cgXiGyN9tXjeuFOzCUyu9sZHyq/PYjAZcPHt80xHL"
        + "lPJpq+BkXcYEaa7CP75q6iDt66T/gMGpFZ7zlcpmLTLoiK3C0qUPW73AQ7NH"
        + "1ZNgEkXQq1MURJCIHZtW=",
    ),
    _t(
        "age secret key",
        r"\bAGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}\b",
        "age-secret-key-1",
        "AGE-SECRET-KEY-1" + "CC5Q9EHW56NJ7SF74CXAEKPQ6C40C236HE0YS6V3HEEW945U9F20HA0ACA",
    ),
    _t(
        "Tailscale key",
        r"\btskey-(?:api|auth|client|scim|" + r"webhook)-[A-Za-z0-9]{6,24}-[A-Za-z0-9]{16,64}\b",
        "tskey-",
        "tskey-auth-k" + "ywBDSjTfVCNTRL-XvqnkfUEk74vAbGFtH0BBlhb1TaImweDN",
    ),
    _t(
        "Defined Networking API token",
        r"\bdnkey-[A-Za-z0-9_=-]{26}-[A-Za-z0-9_=-]{52}",
        "dnkey-",
        "dnkey-"
        + "XrykWpv8xbQS2YrGU23fC6Q4Wf-9DUJRrlFF0MyGSbxEMm6AprsFKjNitDZ3"
        + "JZQWjCPPkVCT2LtDYke",
    ),
    _t(
        "Grafana Cloud access policy token",
        r"\bglc_eyJ[A-Za-z0-9+/]{32,}={0,2}",
        "glc_",
        "glc_eyJvIjoi"
        + "QdQeuZ4D3U4PDcqdlFW1SOXOpdFzV+TKcHZIThr+rd2qHGDYT2sAIW4DdlX9"
        + "6ZfHmRtnvDzLwavQdt9U8+CIwNNc3Z1i0Cyi1pHv=",
    ),
    _t(
        "Grafana service account token",
        r"\bglsa_[A-Za-z0-9]{32}_[a-f0-9]{8}\b",
        "glsa_",
        "glsa_" + "ypIH3Uid0eK13U5tiDFoKQoMDfdVOjC4_0e86de13",
    ),
    _t(
        "Grafana API key (legacy)",
        r"\beyJrIjoi[A-Za-z0-9]{70,}={0,2}",
        "eyjrijoi",
        "eyJrIjoi"
        + "nG8zuvzpDqv2qLQs4lvMOGbe3QfufELev7C5ySJ1ZG4qplMmPg1aJWMrGlE2"
        + "dMi02W3uXsFtezba5R7wAWvOUpjDRm=",
    ),
    _t(
        "New Relic user API key",
        r"\bNRAK-[A-Z0-9]{27}\b",
        "nrak-",
        "NRAK-" + "HSZCMW94X7SBKHSADOE33569V16",
    ),
    _t(
        "New Relic insert key",
        r"\bNRII-[A-Za-z0-9_-]{32}",
        "nrii-",
        "NRII-" + "b24_KgAjgiPETuIvd0MNVHUMKs6xG4gl",
    ),
    _t("New Relic browser key", r"\bNRJS-[a-f0-9]{19}\b", "nrjs-", "NRJS-" + "942621a32a292259829"),
    _t(
        "New Relic license key",
        r"\b[a-f0-9]{36}NRAL\b",
        "nral",
        "db612912f4b1d6e7435b" + "bb12e26c83f503adNRAL",
    ),
    _t(
        "Sentry user auth token",
        r"\bsntryu_[a-f0-9]{64}\b",
        "sntryu_",
        "sntryu_" + "9bed43baeb25d17329696c40cc9f124c046f7cddb47dbae61ab79d83853a" + "bd4a",
    ),
    _t(
        "Sentry organization auth token",
        r"\bsntrys_eyJpYXQiO[A-Za-z0-9+/=]{40,}_[A-Za-z0-9+/]{43}",
        "sntrys_eyjpyxqio",
        "sntrys_eyJpYXQiO"
        + "RgyXtiz0GLo55J0GuBEwQSfpPhfVkQFqwIboI/ezlwsifWl1HXR96HErpasr"
        + "dGUUQb5xOPo9Z7FO/VXVKt143S8cRkKW5vaXJY+nOKHMfGyiH4ftWuE9SAp5"
        + "/3YDxVg+whT1FMV8AfNj_dJCQxIGLVOxd5j5BSSxzu+dUQ3kaj2GtGfun7Pq"
        + "8JiR",
    ),
    _t(
        "Dynatrace API token",
        r"\bdt0[cs]0[1-9]\.[A-Z0-9]{24}\.[A-Z0-9]{64}\b",
        "dt0c0 dt0s0",
        "dt0c01."
        + "4VPO9IE71DQ0I67XRO7PI2ZB.2W65ISF59VD6GBNPMZGX6J472QGY888LXNC"
        + "S5MXWW6SCL8NZO8XT8KJ1LPONYKGJ",
    ),
    _t(
        "Axiom API token",
        r"\bxaat-" + _UUID + r"\b",
        "xaat-",
        "xaat-" + "1cf884c8-6c03-41ce-a166-fdc974a298f7",
    ),
    _t(
        "Axiom personal token",
        r"\bxapt-" + _UUID + r"\b",
        "xapt-",
        "xapt-" + "e8a106ee-6d70-4957-a002-e5b6a104d71e",
    ),
    _t(
        "PostHog personal API key",
        r"\bphx_[A-Za-z0-9]{40,64}\b",
        "phx_",
        "phx_" + "i9jQiJHOQj7fagBP6Joz0ZTnK9His1RysxuDBukOEOs3bQN",
    ),
    _t(
        "Matrix (Synapse) access token",
        r"\bsyt_[A-Za-z0-9_-]+_[A-Za-z0-9]{20}_[A-Za-z0-9]{6}\b",
        "syt_",
        "syt_" + "GIszhVNDP40l_s2UAJjgEon3ZVZevz5mI_HC8qi9",
    ),
    _t(
        "MaxMind license key",
        r"\b[A-Za-z0-9]{6}_[A-Za-z0-9]{29}_mmk\b",
        "_mmk",
        "H8Qlze_6xgTeBnl330KM" + "6paYJGsYuznFvkiE_mmk",
    ),
    _t(
        "ClickHouse Cloud API secret",
        r"\b4b1d[A-Za-z0-9]{38}\b",
        "4b1d",
        "4b1d" + "XwQAcCzOyqMYPmJIzLVtTdDdy8FkwP4rFSNjUs",
    ),
    _t(
        "Adobe OAuth client secret",
        r"\bp8e-[A-Za-z0-9]{32}\b",
        "p8e-",
        "p8e-" + "eSlkFCPobHRUTlFk8Ea4NkXKq944vFqb",
    ),
    _t(
        "Yandex Cloud API key",
        r"\bAQVN[A-Za-z0-9_-]{35,38}",
        "aqvn",
        "AQVN" + "tlUfSOFsrypC0XeZf4wVa2X2JwZZtFkviE1L",
    ),
    _t(
        "Yandex Cloud IAM token",
        r"\bt1\.[A-Za-z0-9_-]{40,}={0,2}\.[A-Za-z0-9_-]{86}={0,2}",
        "t1.",
        "t1."
        + "dQaYPXe8Wgsy9RQ3tobL5Zx05EXM6tZSRa_zG9W7j7LdiHl554SItgIl6Nue"
        + "3r9F0DnTx0hT8R0-FSN9TQa2pYTn8UXDkSXr7OnN_7bLUKushNtmGvL5TALQ"
        + ".6CfIzGevMJY2nIiRpL65cAFKwP3REVivL2kDbRiG7GY8_iY33qLTsN1cDWd"
        + "OH6l4UKPcXygTCpB7ZpZRGSxmJN",
    ),
    _t(
        "42 (intra) OAuth client secret",
        r"\bs-s4t2(?:ud|af)-[a-f0-9]{64}\b",
        "s-s4t2",
        "s-s4t2ud-" + "c8916f606cf094414f43f4b62b886bf61efcd9c52ea09c15732db6eebce7" + "b096",
    ),
    _t(
        "SettleMint access token",
        r"\bsm_(?:pat|aat|sat)_[A-Za-z0-9]{16}\b",
        "sm_pat_ sm_aat_ sm_sat_",
        "sm_pat_" + "5o9JHw32bMZJsBXg",
    ),
    # Chat, messaging and automation webhooks
    _t(
        "Slack bot token",
        r"\bxoxb-[0-9]{8,14}-(?:[0-9]{8,14}-[A-Za-z0-9]{24}|" + r"[A-Za-z0-9]{18,26})\b",
        "xoxb-",
        "xoxb-" + "916052947652-9715852881685-i6vhll4wZtKnT2F3guX5rPqU",
    ),
    _t(
        "Slack user token",
        r"\bxoxp-[0-9]{8,14}-[0-9]{8,14}-[0-9]{8,14}-[a-f0-9]{32}\b",
        "xoxp-",
        "xoxp-" + "201086906929-226030154506-9090817354551-47ead8681486d8f4b638" + "53e29e92c04e",
    ),
    _t(
        "Slack app-level token",
        r"\bxapp-[0-9]-[A-Z0-9]{9,12}-[0-9]{10,14}-[a-f0-9]{64}\b",
        "xapp-",
        "xapp-1-A"
        + "E06Y8ESKYD-0835431018340-b5c9fc55fba34fbb2122052ad9ec2d67bbf"
        + "bf88b375913b69acb412383a06a4d",
    ),
    _t(
        "Slack workspace, refresh or legacy token",
        r"\bxox[aors]-(?:[0-9]-)?[0-9]{6,14}-[A-Za-z0-9-]{10,}\b",
        "xoxa- xoxr- xoxo- xoxs-",
        "xoxr-" + "978986937517-6861075584335-WGjuhrqXSdodTZTv4sIcYMCsTjLsayjO4" + "HZVgDMC",
    ),
    _t(
        "Slack configuration access token",
        r"\bxoxe\.xox[bp]-[0-9]-[A-Z0-9]{160,170}\b",
        "xoxe.xox",
        "xoxe.xoxp-1-"
        + "IXPIEWPV8D4GC2Z4VUDKJT5XI4Z1OXGDF4FMHEXY2HJXD02AUM2ROK4HYRXL"
        + "A735F5AV4ZFVYDM1QQ132CP3WH9EJ1BSWD72A6JWTT1TGTNB9JMDS1LR82HI"
        + "HSE1E19Q3TJZQ618CP0CKXZ5TXH9MN4435C1FV3MLUR0",
    ),
    _t(
        "Slack configuration refresh token",
        r"\bxoxe-[0-9]-[A-Z0-9]{140,150}\b",
        "xoxe-",
        "xoxe-1-"
        + "OB2QDQZD54Q7DFZXFDLFDI5VCYNUOZFEUMMB1RAYHU28VH1KZSWY2U5CA568"
        + "EEW1O5IYIWRJI9DB0XTXXU91ZOV48M5X2SD1QRE0ZDW409DXS47LLPXCYJGA"
        + "PU4IJ1DF6D4VONJ0SLHZZM43KW",
    ),
    _t(
        "Slack incoming webhook URL",
        r"hooks\.slack\.com/services/T[A-Z0-9]{8,12}/B[A-Z0-9]{8,12}/" + r"[A-Za-z0-9]{24}",
        "hooks.slack.com",
        "https://hooks.slack.com/services/T" + "IICENLFSUT/BBQCAOXYV4L/Pv3mbVSib6n934Kc6tKEyYLa",
    ),
    _t(
        "Slack workflow webhook URL",
        r"hooks\.slack\.com/(?:workflows|triggers)/T[A-Z0-9]{8,12}/"
        + r"A[A-Z0-9]{8,12}/[0-9]{15,20}/[A-Za-z0-9]{32}",
        "hooks.slack.com",
        "https://hooks.slack.com/triggers/T"
        + "QQBB40M8NV/AJR0K5B4TPV/143274642042928601/4171a530603bceae7b"
        + "64750660895005",
    ),
    _t(
        "Discord webhook URL",
        r"discord(?:app)?\.com/api/webhooks/[0-9]{17,20}/" + r"[A-Za-z0-9_-]{60,72}",
        "discord.com/api/webhooks discordapp.com/api/webhooks",
        "https://discord.com/api/webhooks/"
        + "8033207260557319744/l3EhrJ6CgZek_VCuOvaJFds4oyjlyF3MnTlxLE3p"
        + "XJwi4znVXj3h6CmosoHH5zfcJWsS",
    ),
    _t(
        "Telegram bot token",
        r"\b[0-9]{8,10}:AA[A-Za-z0-9_-]{33}",
        ":aa",
        "4031319106:AAxBcf7z_0v0" + "Kb-Uam3ct1g9hIfqR-0PgkT",
    ),
    _t(
        "Microsoft Teams incoming webhook URL",
        r"(?:webhook\.office\.com/webhookb2|outlook\.office\.com/webhook)/"
        + _UUID
        + r"@"
        + _UUID
        + r"/IncomingWebhook/[a-f0-9]{32}/"
        + _UUID,
        "webhook.office.com outlook.office.com/webhook",
        "https://"
        + "rs76sup6.webhook.office.com/webhookb2/af2b71b2-21ef-498d-ab9"
        + "2-6235713f791f@09382869-5193-4e3e-aeab-0932293781b6/Incoming"
        + "Webhook/bcf7bd4f345b9483747039203f122c33/6ac88350-c7d1-4ed2-"
        + "a261-60abfb73f770",
    ),
    _t(
        "Power Automate / Logic Apps workflow URL",
        r"(?:logic\.azure\.com(?::443)?|api\.powerplatform\.com(?::443)?/"
        + r"powerautomate/automations/direct)/workflows/[a-f0-9]{32}/triggers/"
        + r"[A-Za-z0-9_.-]+/paths/"
        + r"invoke\?[!#-&(-;=?-~]*?sig=[A-Za-z0-9_%-]{40,}",  # printable ASCII but " ' < >
        "logic.azure.com powerplatform.com",
        "https://prod-"
        + "35.westeurope.logic.azure.com:443/workflows/02189675c261bbdd"
        + "4280129e12e622d7/triggers/manual/paths/invoke?api-version=20"
        + "16-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=sDJ1-CFLwf"
        + "M5M1JERdWkajCTYTfho9Y7R1AcE-s5tbm",
    ),
    _t(
        "Google Chat webhook URL",
        r"chat\.googleapis\.com/v1/spaces/[A-Za-z0-9_-]{11}/"
        + r"messages\?key=AIza[A-Za-z0-9_-]{35}&token=[A-Za-z0-9_%=-]{40,64}",
        "chat.googleapis.com",
        "https://chat.googleapis.com/v1/spaces/"
        + "xNHOIFBLn0I/messages?key=AIzaYL46uewrHFllW-ZpYxbtEK2UeNA5ubH"
        + "vh3i&token=W7Dg0u2spUEGaHJBfeoTqbvvJiIFUA5dy-xMj0coUHv%3D",
    ),
    _t(
        "Zapier webhook URL",
        r"hooks\.zapier\.com/hooks/catch/[0-9]{4,12}/[a-z0-9]{5,12}",
        "hooks.zapier.com",
        "https://hooks.zapier.com/hooks/catch/" + "18741167/065lx9j/",
    ),
    _t(
        "Make (Integromat) webhook URL",
        r"hook\.(?:(?:eu|us)[0-9]\.make\.com|integromat\.com)/[a-z0-9]{32}",
        "make.com integromat.com",
        "https://hook.eu1.make.com/" + "u8q8khojvgyaf7f39rdf1ephuk515co3",
    ),
    _t(
        "IFTTT Maker webhook key",
        r"maker\.ifttt\.com/(?:trigger/[A-Za-z0-9_-]+/(?:json/)?with/key|"
        + r"use)/[A-Za-z0-9_-]{22}",
        "maker.ifttt.com",
        "https://maker.ifttt.com/trigger/new_lead/with/key/" + "qsnNrUKEfQSTLdvMAZgtbR",
    ),
    _t(
        "Twilio API key SID", r"\bSK[a-f0-9]{32}\b", "sk", "SK" + "929783c01d45d027a930d63d638b7b4f"
    ),
    _t(
        "Telnyx API key",
        r"\bKEY[0-9A-F]{32}_[A-Za-z0-9]{22}\b",
        "key",
        "KEY" + "7DDCCA072D92764F40270498CFF59556_w740mOolBs1gKaINP772F0",
    ),
    # Payments and commerce
    _t(
        "Stripe secret key",
        r"\bsk_(?:live|test)_[A-Za-z0-9]{24,}\b",
        "sk_live_ sk_test_",
        "sk_live_"
        + "fNw4K3zyPO32K2DlhNNcyDl4roR4gbE7FNp4NDEXyVbQ5nJ79fJg0TR2Qutb"
        + "d0k6vyHfr0bCgNEgLsGHwLzPuPu9yJ9hNihonX6",
    ),
    _t(
        "Stripe restricted key",
        r"\brk_(?:live|test)_[A-Za-z0-9]{24,}\b",
        "rk_live_ rk_test_",
        "rk_live_"
        + "GHLrjeBDmCwHBi8780AevcLle6YvpARvLuBQYYG6B0Jqypsre4zhcaMFPTzH"
        + "rVtQ5Tz5HSqamJyA2gsypeW54d9dv0GG0zkrZYJ",
    ),
    _t(
        "Webhook signing secret (Stripe, Svix)",
        r"\bwhsec_[A-Za-z0-9+/]{32,88}={0,2}",
        "whsec_",
        "whsec_" + "NiRbrQRG7QTUnLbU2dYVZieMhe4NOXX7",
    ),
    _t(
        "Square access token",
        r"\bEAAA[A-Za-z0-9_-]{60}\b",
        "eaaa",
        "EAAA" + "tuhZxur1YYeFHDVEfsyAMdo8stIt52E1ySfSkYwdpYodWoar6sTQ6fzzpGpj",
    ),
    _t(
        "Square access token (legacy)",
        r"\bsq0atp-[A-Za-z0-9_-]{22}",
        "sq0atp-",
        "sq0atp-" + "wZPKF_JpqkXi8XQ6fX4fiQ",
    ),
    _t(
        "Square OAuth application secret",
        r"\bsq0csp-[A-Za-z0-9_-]{43}",
        "sq0csp-",
        "sq0csp-" + "CP8A_f83CmZmoyIhJ-0idL99coeo8pBXmus6m4UyOP7",
    ),
    _t(
        "PayPal Braintree access token",
        r"\baccess_token\$(?:production|" + r"sandbox)\$[a-z0-9]{16}\$[a-f0-9]{32}\b",
        "access_token$",
        "access_token$production$" + "468jj70gss2k5wlq$edc29842f2425756690fcc4cb390baa2",
    ),
    _t(
        "Shopify Admin API access token",
        r"\bshpat_[a-fA-F0-9]{32}\b",
        "shpat_",
        "shpat_" + "efe9ca0ab36decfa3bcf8a6e45783f67",
    ),
    _t(
        "Shopify custom app access token",
        r"\bshpca_[a-fA-F0-9]{32}\b",
        "shpca_",
        "shpca_" + "8b66231b8faca59b46f3011ee2bf191e",
    ),
    _t(
        "Shopify private app password",
        r"\bshppa_[a-fA-F0-9]{32}\b",
        "shppa_",
        "shppa_" + "998523f98c5a0cd34d825c774375671d",
    ),
    _t(
        "Shopify app shared secret",
        r"\bshpss_[a-fA-F0-9]{32}\b",
        "shpss_",
        "shpss_" + "460e508d3eaa6e8753e6a4fd9f6e1821",
    ),
    _t(
        "Flutterwave secret key",
        r"\bFLWSECK(?:_TEST)?-[a-fA-F0-9]{32}-X\b",
        "flwseck",
        "FLWSECK_TEST-" + "1c6ec862d44ce11f6f1d65702077610c-X",
    ),
    _t(
        "Flutterwave encryption key",
        r"\bFLWSECK(?:_TEST)?[a-fA-F0-9]{12}\b",
        "flwseck",
        "FLWSECK_TEST" + "0920dbe19739",
    ),
    _t(
        "Plaid access token",
        r"\baccess-(?:sandbox|development|production)-" + _UUID + r"\b",
        "access-sandbox- access-development- access-production-",
        "access-production-" + "97c1b15f-ecd4-492b-a807-8c76338d4075",
    ),
    _t(
        "Paddle API key",
        r"\bpdl_(?:live|sdbx)_apikey_[a-z0-9]{26}_[A-Za-z0-9]{22}_" + r"[A-Za-z0-9]{3}\b",
        "pdl_live_apikey_ pdl_sdbx_apikey_",
        "pdl_live_apikey_" + "ugq9rw2f5q7wp96hxh4mnv8t3l_4CseWhJCR1ii2TCjYyWzdM_MnL",
    ),
    _t(
        "WooCommerce consumer key",
        r"\bck_[a-f0-9]{40}\b",
        "ck_",
        "ck_" + "94e2f305794c44d683917319abc1628b5530cc40",
    ),
    _t(
        "WooCommerce consumer secret",
        r"\bcs_[a-f0-9]{40}\b",
        "cs_",
        "cs_" + "b7956b18cd2dae679b3d763848d8503c91b2bf3e",
    ),
    _t(
        "Pagar.me API key",
        r"\bak_live_[A-Za-z0-9]{30}\b",
        "ak_live_",
        "ak_live_" + "RTF05fLMrq5AgKmX7HABui4LqW6cSf",
    ),
    _t(
        "Shippo API token",
        r"\bshippo_(?:live|test)_[a-f0-9]{40}\b",
        "shippo_live_ shippo_test_",
        "shippo_live_" + "2ab5b68960e0b23c7ea606e8ed7be716f539010c",
    ),
    _t(
        "EasyPost production API key",
        r"\bEZAK[A-Za-z0-9]{54}\b",
        "ezak",
        "EZAK" + "OIdoxuC5qrbXnMdH6tRlPEYVR9OXJuqUoDLwd96AQA2wIuxEmOQu4g",
    ),
    _t(
        "EasyPost test API key",
        r"\bEZTK[A-Za-z0-9]{54}\b",
        "eztk",
        "EZTK" + "g7xv1agwZxz59l3PJq9ZFb4L0kgSszZ4V2eNRqdrO8SCze1o74r22i",
    ),
    _t(
        "Lob API key",
        r"\b(?:live|test)_[a-f0-9]{35}\b",
        "live_ test_",
        "live_" + "b606bda62ef661100dbb781460a2a1f098a",
    ),
    _t(
        "Duffel API token",
        r"\bduffel_(?:test|live)_[A-Za-z0-9_-]{43}",
        "duffel_test_ duffel_live_",
        "duffel_live_" + "VbrvdNKSjCLerI_wbHEkRcAy7FR99f8UQA-51m-N2Vc",
    ),
    _t(
        "Mollie API key",
        r"\b(?:live|test)_[A-Za-z0-9]{30}\b",
        "live_ test_",
        "live_" + "VHKvb3gSiNWAVGDu7Ce7wDHBubwW9P",
        distinctive=False,
    ),
    # AI and machine learning
    _t(
        "OpenAI project API key",
        r"\bsk-proj-[A-Za-z0-9_-]{20,}T3BlbkFJ[A-Za-z0-9_-]{20,}",
        "sk-proj-",
        "sk-proj-"
        + "UP0OSO6WdGbROtSxGlGQuWnZ70l2zqgyJvVpSOGH2brj1COZkm-vDwAa4cVa"
        + "u_6H8n6GyvSmRBT3BlbkFJjeHGT-EuoOGgyoNT3fRQjxCp6oEqd-tss4dZBi"
        + "4B7QBbkMJwEWbno25-dZMh7BwmwNRSNbKDFa",
    ),
    _t(
        "OpenAI service account key",
        r"\bsk-svcacct-[A-Za-z0-9_-]{20,}T3BlbkFJ[A-Za-z0-9_-]{20,}",
        "sk-svcacct-",
        "sk-svcacct-"
        + "iMiid1p9eUK4tAxFWLOuw1ZRd1M4KOQWGOCCZS_X0GZUtG-OAxg1fV8GjL93"
        + "RzFxA7GUIwp619T3BlbkFJKgqhMiKUAz3R99Wgp9RRiS-LFtEAg4vOdvq56J"
        + "jA3d5PCyw3_0j7qJACWCLlah07LCRyJkB2F2",
    ),
    _t(
        "OpenAI admin key",
        r"\bsk-admin-[A-Za-z0-9_-]{20,}T3BlbkFJ[A-Za-z0-9_-]{20,}",
        "sk-admin-",
        "sk-admin-"
        + "KpXp_S5cHGQnj0DX16jqn-q9iEgLuJT0iCGmRH-8mym595YGxL0NvTAwjqT3"
        + "BlbkFJfR85vcrStgNcCjnVpC9N8_7jjemkjQucOQl0hjtIWFeXA6UiuLeCRD"
        + "Yx3s",
    ),
    _t(
        "OpenAI user API key (legacy)",
        r"\bsk-(?:None-)?[A-Za-z0-9]{20,74}T3BlbkFJ[A-Za-z0-9]{20,74}\b",
        "t3blbkfj",
        "sk-" + "oU1332hz9mZttOMaQNLHT3BlbkFJhgrVrp38SblfaiF54owk",
    ),
    _t(
        "Anthropic API key",
        r"\bsk-ant-api[0-9]{2}-[A-Za-z0-9_-]{93}AA\b",
        "sk-ant-api",
        "sk-ant-api03-"
        + "I7rt6h08jZNR3oamjtLAuBDqe6NUk4VHPEag949I2-dgBVk2SIrHNUPySdFN"
        + "qQ8NmLAiQJbDIeY9k5XKZZYNyy6bTPeyhAA",
    ),
    _t(
        "Anthropic admin key",
        r"\bsk-ant-admin[0-9]{2}-[A-Za-z0-9_-]{93}AA\b",
        "sk-ant-admin",
        "sk-ant-admin01-"
        + "KFm4KvdL3b5a38qdu8855LejNFTnmZbQYBJWMDAtBXMrATYn2PbqdRGr5hTG"
        + "u0jXHwoaxhbC-wvkrkcXgdNLdW3RPwV8yAA",
    ),
    _t(
        "Anthropic OAuth token",
        r"\bsk-ant-o[ar]t[0-9]{2}-[A-Za-z0-9_-]{80,}",
        "sk-ant-oat sk-ant-ort",
        "sk-ant-oat01-"
        + "3dTOXgr1bC6U-NFolRbjTvNV05OD8U8aitWalkCr5iekVv4FUCl9GYllHa9_"
        + "THRNDlhooa-pJ4H-YwMmgsoNgzJedmUBTAA",
    ),
    _t(
        "Groq API key",
        r"\bgsk_[A-Za-z0-9]{52}\b",
        "gsk_",
        "gsk_" + "jqcFY23IIiFy2B0dxf5BoKmWw3roeVkhdtBPJ43O8XyQWuoPB8n1",
    ),
    _t(
        "Hugging Face access token",
        r"\bhf_[A-Za-z]{34}\b",
        "hf_",
        "hf_" + "irLKPJsMcaScVlYcsOFxEnmIAHjTvknxly",
    ),
    _t(
        "Hugging Face organization token (legacy)",
        r"\bapi_org_[A-Za-z]{34}\b",
        "api_org_",
        "api_org_" + "vNSKxltlcPWYnnfmNKlyLRFWBvqVAlRgDb",
    ),
    _t(
        "Replicate API token",
        r"\br8_[A-Za-z0-9]{37}\b",
        "r8_",
        "r8_" + "25mj8eKKQ6Z7v9ssb6lxGKo22GlQRHI0hazBr",
    ),
    _t(
        "Perplexity API key",
        r"\bpplx-[A-Za-z0-9]{48}\b",
        "pplx-",
        "pplx-" + "fk9O1OGp2d3ZIqEcJ0H0sEVoF6yoM1n6poCGPWg2ubEA3i7m",
    ),
    _t(
        "xAI API key",
        r"\bxai-[A-Za-z0-9]{80}\b",
        "xai-",
        "xai-"
        + "jfe9r90MKC3tf17K1HiQdpVZj6aelmb7lkTzsYdA3ykAPt4aZ6SNw6MH8NAt"
        + "wTXJw7vAlOMV4qKOpN9I",
    ),
    _t(
        "OpenRouter API key",
        r"\bsk-or-v1-[a-f0-9]{64}\b",
        "sk-or-v1-",
        "sk-or-v1-" + "dafa3bd26ae26e136dd03f4dee533755a5bbd4deec939d951b74998b8ca4" + "5220",
    ),
    _t(
        "DeepSeek API key",
        r"\bsk-[a-f0-9]{32}\b",
        "sk-",
        "sk-" + "28be306b282dd3cd598683e4450cb1c0",
    ),
    _t(
        "NVIDIA API key",
        r"\bnvapi-[A-Za-z0-9_-]{64}",
        "nvapi-",
        "nvapi-" + "Cd0l7wkLtwUaFT1NJlRpFy5ddO89IFoHFSJIaDpaAJxOSDLCX6Oz7fMrIaVr" + "Pmpi",
    ),
    _t(
        "LangSmith API key",
        r"\blsv2_(?:pt|sk)_[a-f0-9]{32}_[a-f0-9]{10}\b",
        "lsv2_pt_ lsv2_sk_",
        "lsv2_pt_" + "1a7694b7a28c54b702c49c2f6ef4010b_d011a48c9f",
    ),
    _t(
        "Langfuse secret key",
        r"\bsk-lf-" + _UUID + r"\b",
        "sk-lf-",
        "sk-lf-" + "b6b17fba-9cd4-40f5-ab09-6bc14db47c3e",
    ),
    _t(
        "Pinecone API key",
        r"\bpcsk_[A-Za-z0-9]{4,8}_[A-Za-z0-9]{40,90}\b",
        "pcsk_",
        "pcsk_" + "jWkWm7_iQKoGr2eJJDDPiylUGCWy1NbxYdUANYrHChPywp3h5pHZbuIBPBMe" + "yOY22235dc",
    ),
    _t(
        "Tavily API key",
        r"\btvly-(?:dev-|prod-)?[A-Za-z0-9]{32,40}\b",
        "tvly-",
        "tvly-dev-" + "BkjHdLQ3z1NIFxvUU5abjTIJrAIlaZ8h",
    ),
    _t(
        "Firecrawl API key",
        r"\bfc-[a-f0-9]{32}\b",
        "fc-",
        "fc-" + "10973fe2f792f44c9336ba6cd3a1dcba",
    ),
    _t(
        "ElevenLabs API key",
        r"\bsk_[a-f0-9]{48}\b",
        "sk_",
        "sk_" + "883492881a3022eef3d05e7519d057c6f1dd563a1c1a1be8",
    ),
    # E-mail and SMS
    _t(
        "SendGrid API key",
        r"\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}",
        "sg.",
        "SG." + "lkWscrvDGgHIJWu6pbB4rt.bcXOk2sjo6c4Lrh_yKXNT7DbVQDA47UtgxMut" + "f2k3Oh",
    ),
    _t(
        "Mailgun private API key (legacy)",
        r"\bkey-[a-f0-9]{32}\b",
        "key-",
        "key-" + "8f19c2d06a9d77a41b3b8756573800b7",
    ),
    _t(
        "Mailchimp API key",
        r"\b[a-f0-9]{32}-us[0-9]{1,2}\b",
        "-us",
        "340177602dafba9bb8" + "dc94713c383de6-us21",
    ),
    _t(
        "Brevo (Sendinblue) API key",
        r"\bxkeysib-[a-f0-9]{64}-[A-Za-z0-9]{16}\b",
        "xkeysib-",
        "xkeysib-"
        + "01e8e3e42b68c4264da9221897f72ea786dcf376d2836ea37de7ee908930"
        + "7e12-Y1Z96k0bsK32Tu2i",
    ),
    _t(
        "Brevo (Sendinblue) SMTP key",
        r"\bxsmtpsib-[a-f0-9]{64}-[A-Za-z0-9]{16}\b",
        "xsmtpsib-",
        "xsmtpsib-"
        + "320121ad2a855528b924a226f8c36e31a03cc0541041d4d2f90678f0c6fa"
        + "99ef-QgQ9vbLrWgZMGmAH",
    ),
    _t(
        "Resend API key",
        r"\bre_[A-Za-z0-9]{8}_[A-Za-z0-9]{24}\b",
        "re_",
        "re_" + "QtIneuwb_t5t25TE97IDR0GD6EwYb84xg",
    ),
    _t(
        "MailerSend API token",
        r"\bmlsn\.[a-f0-9]{64}\b",
        "mlsn.",
        "mlsn." + "66d9ea2425116e5dbb6fd8ce7db3f0db333fd7e417d0afc7cbc4bdeb5937" + "5d60",
    ),
    # Productivity, CRM, content and other SaaS
    _t(
        "Linear API key",
        r"\blin_api_[A-Za-z0-9]{40}\b",
        "lin_api_",
        "lin_api_" + "3p0t93zevKAsCykF01HiiFx0YFDslEDP81h9mHQq",
    ),
    _t(
        "Linear OAuth access token",
        r"\blin_oauth_[a-f0-9]{64}\b",
        "lin_oauth_",
        "lin_oauth_" + "d655b2a4f7903822a3329944c3e8b9f592b9bb2d09c34efee16ee5d806ef" + "c15b",
    ),
    _t(
        "Notion integration token",
        r"\bntn_[0-9]{11}[A-Za-z0-9]{35}\b",
        "ntn_",
        "ntn_" + "56965289460trp6JbgvpWFcQCo5A4p47XfdUvJJMBcce5U",
    ),
    _t(
        "Notion integration token (legacy secret_)",
        r"\bsecret_[A-Za-z0-9]{43}\b",
        "secret_",
        "secret_" + "cwkNCIUVVwidFg34J5kelZd5XkTBNUYwUKYyp7EFgBy",
        distinctive=False,
    ),
    _t(
        "Airtable personal access token",
        r"\bpat[A-Za-z0-9]{14}\.[a-f0-9]{64}\b",
        "pat",
        "pat"
        + "mvu8j4uf1xtaNs.c081037c2ea66a0fe716ee9391fba49fc6ca71af95024"
        + "44f384ade8af3ec0a42",
    ),
    _t(
        "Asana personal access token",
        r"\b[12]/[0-9]{16}(?:/[0-9]{16})?:[a-f0-9]{32}\b",
        "1/ 2/",
        "2/" + "4022834017925653/6933271684478629:ac12428d7ca710a71caf1e7dcb" + "ee01e4",
    ),
    _t(
        "Dropbox access token (short-lived)",
        r"\bsl\.(?:u\.)?[A-Za-z0-9_-]{130,}",
        "sl.",
        "sl.u."
        + "IwWHZFEwqPykXtvTUVE6GfojLMVlsP2jzkioMYayfyQ9AAT6mS2db-NPFsym"
        + "Afi1VEY-JJeAsfTlaPuvTvopqcxlDsclIEdGCSwTU2HeeH1sWPyMOHmD3clP"
        + "XIbjWoEAKZLPVyOrnRE0",
    ),
    _t(
        "Figma personal access token",
        r"\bfigd_[A-Za-z0-9_-]{38,45}",
        "figd_",
        "figd_" + "wGA_rHFsjDO5Lq29dTNsnE2rRMRriesuPwCFROid",
    ),
    _t(
        "Typeform personal access token",
        r"\btfp_[A-Za-z0-9_.=-]{40,64}",
        "tfp_",
        "tfp_" + "wxhV1hUzmRF0CgsHdZafcrzF4kcy8qRHWmy7OqsxGTIk_am9p8EY6D936F7",
    ),
    _t(
        "Contentful personal access token",
        r"\bCFPAT-[A-Za-z0-9_-]{43}",
        "cfpat-",
        "CFPAT-" + "E8HGpEqha7lAdQC1U60aEHVXe0nJd-a2u2Ljt0CMkDv",
    ),
    _t(
        "Frame.io developer token",
        r"\bfio-u-[A-Za-z0-9_=-]{64}",
        "fio-u-",
        "fio-u-" + "H9Rg1u8KNP02tJbHo9wF9YD0A56DGVrJ_xOdrQuizqm12gYtOtutfPTZkYEU" + "hjLd",
    ),
    _t(
        "Mapbox secret access token",
        r"\bsk\.eyJ[A-Za-z0-9_-]{50,}\.[A-Za-z0-9_-]{22}",
        "sk.eyj",
        "sk.eyJ1Ijoi"
        + "MTw-njorbKsrjikRjU8CBe_QJh9VT2CVSWNSwlW0bLfoF1N62sM6DvP_Aytt"
        + ".e5F36dkXhAQenuA8LCCwSp",
    ),
    _t(
        "Meta (Facebook) access token",
        r"\bEAA[A-Za-z0-9]{100,}",
        "eaa",
        "EAAB"
        + "SMfP0Rx7RxNJqDYYESW0IBF7Lo69kmgint10Rmb9M6y8DZGjxbB7PrDjQMmc"
        + "eqPcLwNgRNvhmyFd4aZSrlCMagLzk6HbYi4tAUqkunQhlfMJ6D",
    ),
    _t(
        "Instagram access token",
        r"\bIGQV[A-Za-z0-9_-]{100,}",
        "igqv",
        "IGQVJ"
        + "fhBgvlQkuElrIsKgiGZcq_p6phcha1SOQx7CmAzZJQqj4uh7Ep0NvswDyxSF"
        + "1DqqxD5Wpso_r6bwUNo-zsSz7Ut7XGgWyA4rRL4ucjMuXh9qMk",
    ),
    _t(
        "X (Twitter) app-only bearer token",
        r"\bA{22}[A-Za-z0-9%]{80,}",
        "aaaaaaaaaaaaaaaaaaaaaa",
        "AAAAAAAAAAAAAAAAAAAAAA"
        + "Dz03jV8eftAg5N85rNbRalkWTp1e%3D3NN0uao4EnfRlVgMXsxAyfSVjbkFZ"
        + "AFTN2hJD52xoKATS31zD2",
    ),
    _t(
        "HubSpot private app token",
        r"\bpat-(?:na|eu|ap)[0-9]-" + _UUID + r"\b",
        "pat-na pat-eu pat-ap",
        "pat-na1-" + "15456680-3357-4430-aca8-417dacb3e65d",
    ),
    _t(
        "Zoho OAuth token",
        r"\b1000\.[a-f0-9]{32}\.[a-f0-9]{32}\b",
        "1000.",
        "1000." + "830cf81d291b1d92cf9472223960494a.e7f9da213b71b5674bb6b8d3cb1" + "6faba",
    ),
    _t(
        "ClickUp personal API token",
        r"\bpk_[0-9]{6,10}_[A-Z0-9]{32}\b",
        "pk_",
        "pk_" + "00798207_ANH261BGQRALQDSLF4KQZ4QK6W4NJ6R9",
    ),
    _t(
        "Trello API token",
        r"\bATTA[A-Fa-f0-9]{72}\b",
        "atta",
        "ATTA" + "47b45dbf2bdbcb1eb746085962409b4825a8b71d52a9ae478c3ef2722c93" + "6a378531D137",
    ),
    _t(
        "Salesforce access token",
        r"\b00D[A-Za-z0-9]{12,15}![A-Za-z0-9._]{80,}",
        "00d",
        "00D"
        + "AocS8iMWVrqTjgC!AQUFr04FkZsIojLyKZV822MsDTn9jM5TgUYlVowbfnvZ"
        + "q993PMTp6Bv1XeXwqch6QPtJ2Y506cauUahxFUiAgIFNiOC1zTQy",
    ),
    _t(
        "Salesforce refresh token",
        r"\b5Aep861[A-Za-z0-9._]{70,90}\b",
        "5aep861",
        "5Aep861"
        + "SYe2CGloMAAQL6gF34BTozmzFtLoVbJNSXDMDmNYDSgV1VkVRsJ2EHYw1VQw"
        + "RkF7LxcT5ZhEUvvZJrJe",
    ),
    _t(
        "Intercom access token",
        r"\bdG9rO[A-Za-z0-9+/]{50,}={0,2}",
        "dg9ro",
        "dG9rOj" + "ZQ1lA/9g/k7BGVAKffqB+eflkiJdkHWBBwMgdRlSvppkXskZZ3azL=",
    ),
    _t(
        "Segment public API token",
        r"\bsgp_[A-Za-z0-9]{64}\b",
        "sgp_",
        "sgp_" + "clMbfD2gO9cA07wZuBEiEJyVTHyBuGwYKOuJNfipc05Ny8wgzDFsqdpA8H1E" + "kiLU",
    ),
    _t(
        "Voiceflow API key",
        r"\bVF\.(?:(?:DM|WS)\.)?[a-f0-9]{24}\.[A-Za-z0-9]{16}\b",
        "vf.",
        "VF.DM." + "71262133d5f2ca0195b23e66.20MHgiPgPWVGv9Ek",
    ),
    _t(
        "Adafruit IO key",
        r"\baio_[A-Za-z0-9]{28}\b",
        "aio_",
        "aio_" + "HOfOTYDhuCqv7zjuZoMkXcRUH3y5",
    ),
    _t(
        "Ubidots token",
        r"\bBBFF-[A-Za-z0-9]{30}\b",
        "bbff-",
        "BBFF-" + "um1v4J8iCYkIBGpVpAEmGm4RxkpBQV",
    ),
    _t(
        "Flexport API key",
        r"\bshltm_[A-Za-z0-9_-]{40}",
        "shltm_",
        "shltm_" + "Dbgbeb1v-xmW6mZKrHyyKa5pOyViknc3P5oRHQIh",
    ),
    _t(
        "FullStory API key",
        r"\bna1\.[A-Za-z0-9+/]{100}",
        "na1.",
        "na1."
        + "U0MyycloXojtd5tGj+I7jdKMyM4X/hWT8KRsTLVnkLkt604mJBcXDPlsE5aK"
        + "uGL7/4rNhyG4XFVayxIlSdpdK6NOhshXqRqZwFd7",
    ),
    # Generic structures (context needed)
    _t(
        "JSON Web Token",
        r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}",
        "eyj",
        "eyJhbGciOiJIUzI1NiJ9.eyJ"
        + "MIuwBp2FWSPylL0rAJOMxovj_W51BqxDyYeFHHa2WD2MW2gnUxPRZLIfggol"
        + ".jBi3yu2dMywEZKgRts79T-79jI1yRnFaT24alME_FIc",
        distinctive=False,
    ),
)
