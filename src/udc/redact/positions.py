"""Stream 1 without a model: people, logins and street addresses found by where they stand in ITSM text.

A name is told from other capitalised words by its position: after a greeting or before a sign-off, as a chat
speaker, before an e-mail address in a header, on the line under "Regards,", after words like "caller", "spoke
with", "assigned to". A login stands after "user:", "login=", "logged in as", "AD account", as DOMAIN\\login, in
the answer to a question about a login, or (first.last) just after a word about access ("VPN drops for a.iyer").
A street address is a house number, capitalised words and a street type ("1627 Maple Avenue, Apt 4, Springfield,
IL 62704"). Capitalised words of IT (products, teams, days, months) are never taken for names. Every pattern is
bounded, so scanning stays linear.
"""

from __future__ import annotations

import re

from udc.config import entities as E
from udc.redact.accounts import spelled_from
from udc.redact.lowercase import lower_case
from udc.redact.scanner import Finding
from udc.redact.wordpass import FIXED

# Words of IT operations and office life that are capitalised without being names ("Upgrade Kafka", "Hi Team").
MACHINE_VOCABULARY = """
upgrade downgrade backout rollback roll restart reboot deploy deployment release patch hotfix rebuild failover
broker platform infrastructure cloud server servers service services cluster node nodes pod pods database db queue
kafka grafana tableau elasticsearch kibana logstash redis jenkins salesforce servicenow jira confluence okta windows
linux red hat rhel ubuntu debian centos docker kubernetes nginx apache tomcat postgres postgresql mysql oracle sap
outlook exchange teams slack zoom vpn globalprotect cisco aws azure gcp github gitlab bitbucket splunk datadog
dynatrace vmware esx esxi citrix sharepoint onedrive office excel chrome firefox safari java python node api sso mfa
ldap dns dhcp ssl tls http https sql etl cab sla monitoring alert alerts incident change problem request task network
storage security operations desk support team group admin administrator system systems payroll billing order orders
mid sync consumer producer replica cache gateway proxy firewall load balancer f5 prometheus terraform ansible
error warn warning info debug trace fatal exception invoice ticket computer workstation window maintenance
word access project visio powerpoint onenote publisher pipeline report web auto automatic automated automation
scheduler scheduled script workflow rule rules job jobs bot robot integration guest anonymous unknown nobody
"""
_OFFICE_WORDS = """
all everyone team folks guys there sir madam colleagues the a an this that these those it its we you they he she i
monday tuesday wednesday thursday friday saturday sunday january february march april may june july august
september october november december today tomorrow yesterday please thanks thank regards best kind cheers hello hi
dear hey mr mrs ms dr prof microsoft google apple amazon meta ibm dell hp lenovo intel adobe zscaler crowdstrike
sentinelone inc corp ltd llc gmbh plc co company bank group hospital clinic university department dept finance hr
legal sales marketing it ops devops noc soc helpdesk servicedesk user users customer customers client clients
vendor caller agent manager lead owner approver engineer analyst and or of for to in on at by with from via per re
fw fwd subject note notes update status priority urgent high medium low critical resolved closed open new pending
done ok yes no north south east west street road avenue lane drive main solutions capital weekly services
technologies partners holdings international global consulting associates college school institute foundation labs
software networks limited industries enterprises media news magazine times post journal airlines airways hotel
hotels motors office centre center hotline switchboard reception headquarters escalation name names which what
who whom whose where when why how login logon logoff logout failed unit flat apt apartment suite level floor
admins administrators readers writers editors owners members operators contributors viewers approvers
supply supplies medical pharmacy pharma logistics laboratories laboratory royal infirmary trust medicare medicaid
health healthcare staffing recruitment scripts advisors advisers adviseurs belastingadviseurs surgery orthopedics
"""
_NOT_NAMES = frozenset(MACHINE_VOCABULARY.split()) | frozenset(_OFFICE_WORDS.split())

# (Latin Extended Additional, U+1E00-U+1EFF, alternates capitals and small letters: "Nguyễn Thị"; from Latin
# Extended-B the horned letters of Vietnamese, "Dương", "Phơn", and Romanian's comma-below ones, "Ștefan Țurcanu")
_UPPER = "A-ZÀ-ÖØ-ÞĀ-ŽḀ-ỾƠƯȘȚ"
_LOWER = "a-zß-öø-ÿā-žḁ-ỿơưșț"
# "Priya", "O'Brien", "McDonald", "Okonkwo-Lindqvist", "Eun-ji"; not "I've"
_PART = rf"[{_UPPER}][{_LOWER}]{{0,3}}(?:['’]?[{_UPPER}])?[{_LOWER}]{{1,30}}"
_WORD = rf"{_PART}(?:-(?:{_PART}|[{_LOWER}]{{2,12}}))?(?![\w]|['’](?!s(?![\w])))"  # (before "'s": "Ada Eze's")
# (two-word particles first: "Bram van den Berg", "María de la Cruz"; Irish "Ó", "Ní")
_PARTICLE = (r"(?:van de[nr]?|von de[rmn]|de la|de los|de las|van 't|de|da|del|della|di|du|dos|das|van|von|der|den|"
             r"la|le|al|el|bin|binti|binte|bint|ibn|ben|ter|ten|y|Ó|Ní|Nic|Uí|s/o|d/o|a/l|a/p)")
_NICK = rf"(?:[ ][\"“][{_UPPER}][{_LOWER}]{{1,15}}[\"”](?=[ ]))?"  # Terrence "Rich" Richardson
# (a middle initial inside: "Margaret A. Kowalczyk")
_NAME = rf"{_WORD}(?:{_NICK}[ ]{{1,2}}(?:[{_UPPER}]\.[ ])?(?:{_PARTICLE}[ ])?{_WORD}){{0,3}}"
_LAST_FIRST = rf"{_WORD}(?:[ ]{_WORD})?,[ ]{_WORD}(?:[ ]{_WORD})?"

_CUES = (r"caller|called|call back|calling|spoke with|spoke to|speaking with|talked to|assigned to|assigned it to|"
         r"reassigned to|escalated to|contact|contacted|employee|patient|customer|requested by|opened by|reported by|"
         r"raised by|on behalf of|approved by|manager|attn|hi|hello|hey|dear|thanks|thank you|regards|cheers|@|"
         r"my name is|employee name|full name|patient name|customer name|name on account|name on card|"
         r"account holder|cardholder|card holder|good morning|good afternoon|good evening|assignee|reporter|"
         r"approver|resolved by|closed by|created by|updated by|submitted by|logged by|opened for|subject person|"
         r"name|verified|spoke w|ee|cust|mbr|"
         r"beste|hallo|hej|hola|bonjour|ciao|olá|buongiorno|goedemorgen|querido|querida|lieber")
# (greetings in other languages: "Beste Maarten", "Hallo Willem"; "Opened for:", "Name:" of HR forms)
# A self-introduction, the name then a comma or "from", "calling", "here": "this is Ruairí, how can I help?", "it's
# Deepika Chandrasekaran from the Bexley clinic", "I am Venkat calling about …"
_INTRO_CUES = r"this is|it's|it’s|it is|i am|i'm|i’m"
# Words that precede places and companies as often as people: a name after them needs two words or more.
# (" till": Swedish "to"; with its space, so "still" is no hit of the one pass)
# (also "by" and "via" before a full name, "Corrected by Lerato Mokoena"; an administrator's verb before the person it
# acts on, "Add Anneliese Brauer and …", "told Hamza Qureshi to wait")
# (the short, frequent ones with their space, so the pass has no hit in "bytes", "address": " by", " add")
_WEAK_CUES = ("for|from|with|cc|ping|pinging| till|für|voor| by| via| add|\nby|\nvia|\nadd|remove|told|invite|notify|"
              "include")
_NUMBER_AFTER = re.compile(r"[ ][0-9]")  # (a capitalised pair before a number is a street: "Van Woustraat 188")
_NAME2 = rf"{_WORD}(?:{_NICK}[ ]{{1,2}}(?:[{_UPPER}]\.[ ])?(?:{_PARTICLE}[ ])?{_WORD}){{1,3}}"
# Roles and relations that name a person as often as not ("new hire Priyanka Subramaniam", "her agency contact is
# Bartholomew Quist", "a contractor, Nguyễn Thị Lan"); they also precede teams and firms, so two words or more.
_ROLE_CUES = (r"new hire|new starter|starter|joiner|leaver|contractor|consultant|intern|colleague|coworker|co-worker|"
              r"belongs to|belonging to|named|known as|enrolled as|registered as|formerly|née|nee|proprietor|"
              r"borrower|co-borrower|consignee|taxpayer|appellant|preparer|signatory|guarantor|landlord|executor|"
              r"decedent|deceased|respondent|complainant|defendant|plaintiff|probationer|"
              r"supervisor|line manager|team lead|technician|implementer|requester|requestor|requested for|end user|"
              r"dependant|dependent|spouse|wife|husband|son|daughter|mother|father|guardian|next of kin|beneficiary|"
              r"tenant|visitor|applicant|candidate|doctor|nurse|physician|prescriber|provider|pharmacist|clinician|"
              r"surgeon|therapist|representative|rep|traveller|traveler|passenger|student|staff member|owner|engineer|"
              r"on duty|on call|partner|logged-on user|logged on user|signed-in user|"
              r"member|subscriber|insured|booked by|ordered by|authorised by|authorized by|collected by|"
              r"scribe|commander|coordinator|associate|trader|freelancer|translator|tech|agent|holder|driver|"
              r"in charge|user|responder|responders|"
              r"colaborador|colaboradora|gestor|gestora|funcionário|funcionária|empleado|empleada|responsable|"
              # the same roles in other languages: "Unser Techniker Jürgen Weiß", "onze medewerker …"
              r"techniker|technikerin|technicus|technicien|técnico|tecnico|kollege|kollegin|collega|collègue|"
              r"mitarbeiter|mitarbeiterin|medewerker|ansprechpartner|contactpersoon)")
# Roles that also end a job's title ("Clinical Data Analyst, Revenue Cycle Analytics"): a name after a colon or a
# space only ("Analyst: Oskar Lindahl", "Ward clerk Ivy Brennan", "IG lead Hollie Vance"), two words or more
_TITLE_END_CUES = (r"analyst|clerk|lead|incoming|outgoing|referral for|collect from|receptionist|registrar|"
                   r"dispatcher|investigator|auditor|recruiter|mentor|sponsor|delegate|deputy|witness|caseworker|"
                   r"case worker|case owner|adjuster|claimant|policyholder")
# Self-introductions in other languages, before two words or more ("Hola, soy Lucía Martín Herrera"); their words
# stay possible names ("bin", "Mi")
_FOREIGN_INTROS = r"soy|me llamo|je suis|je m'appelle|ich bin|mi chiamo|sono|sou|jestem"
# Titles, capitalised, before a name of any length ("Dr. Ewa Kowalska", "Mr Okafor", "Frau Vogelsang")
# ("Pt Edward Kimani, 78M": a patient; French "M. Thierry Lemaire", German "Herrn", Dutch "Dhr.")
_TITLES = r"mr|mrs|ms|mx|dr|prof|sir|frau|herr|herrn|mme|mlle|sra|srta|dhr|mevr|mevrouw|signora|pt| m"
_NOT_NAMES |= frozenset(w for cue in (_CUES + "|" + _ROLE_CUES + "|" + _TITLE_END_CUES).split("|") for w in cue.split()
                        if w.isalpha())
NOT_NAMES = _NOT_NAMES  # (also for CSV columns of people)
# A name (or "Last, First") right after a cue word: "Refund for April Iyer", "Called Zhang, Nguyen back", "the
# contact is Bartholomew Quist". Cue words are found with one Aho-Corasick pass, the name matched only where one
# ends (a leading alternation of words would be tried at every position of the text).
# (also in brackets, "patient (Ana Lima)", or after a nurse's or doctor's grade, "reported by SN Ada Eze")
_GRADE = r"(?:(?:RN|SN|EN|HCA|CNA|LPN|NP|PA|Sr|Dr|Staff Nurse|Sister)\.?[ ])?"
# (also with an initial for a first, middle or last name: "Comment by J. Okafor", "escalated to Tomasz W.", "my name
# is Vanessa P. Hertzog")
_INITIALLED = rf"[{_UPPER}]\.[ ]{_WORD}|{_WORD}[ ][{_UPPER}]\.(?:[ ]{_WORD}|(?![\w]))"
# (a form pads its label with spaces: "Consignee:    Bartholomew Achebe")
_AFTER_CUE = re.compile(rf"(?:[,:!]?[ ]{{1,2}}|:[ \t]{{3,16}})\(?{_GRADE}({_INITIALLED}|{_LAST_FIRST}|{_NAME})")
_AFTER_ROLE_CUE = re.compile(rf"(?:[,:]?[ ]{{1,2}}|:[ \t]{{3,16}})\(?{_GRADE}({_LAST_FIRST}|{_NAME2})")
_AFTER_TITLE_END = re.compile(rf":?[ ]{{1,2}}\(?{_GRADE}({_NAME2})")
# a form's name field may be in capitals, surname first: "PATIENT NAME: ABDULLAHI, FATIMA"
_CAPS_NAME = r"[A-Z][A-Z'’\-]{1,30},?(?:[ ][A-Z][A-Z'’\-]{1,30}){1,2}(?![\w])"
# (also a JSON or XML name field pasted into a work note: '"name": "Ada Eze"', "<Name>Ada Eze</Name>", "name=Ada Eze")
_AFTER_NAME_LABEL = re.compile(
    rf"(?:[\"']?[ ]?[:=][ ]{{0,3}}[\"']|>|=|[,:]?[ ]{{1,3}})({_LAST_FIRST}|{_NAME}|{_CAPS_NAME})")
_AFTER_WEAK_CUE = re.compile(rf"[ ]({_LAST_FIRST}|{_NAME2})")
_AFTER_TITLE = re.compile(rf"[ ]{{1,2}}((?:[{_UPPER}]\.[ ])?{_NAME})")  # (an initial: "Pt L. Moreau")
_AFTER_INTRO = re.compile(
    rf"[ ]({_NAME})(?=,|\.?[ \t]*(?:\r?\n|$)|[ ](?:from|calling|here|speaking|with|again|in|at)(?![\w'’]))")
# A surname in capitals, a comma and the given name, in an export's column or before a value ("JOHNSON, TERRENCE   ",
# '"NAKASHIMA, Kenji",', "ACHTERBERG, BERNARD 1948-10-02"); not "CHICAGO, ILLINOIS" (a place after the comma) nor
# an address's parts ("Apt. 105, ISHAM, United Kingdom"); (the capital first, what stands before it then: a
# pattern led by a look-behind is tried at every position)
_CAPS_LAST_FIRST = re.compile(
    rf"([A-Z](?<![\w'’\-][A-Z])(?<!,[ ][A-Z])[A-Z'’\-]{{2,30}}(?:[ ][A-Z][A-Z'’\-]{{1,30}})?,[ ]{{1,2}}"
    rf"[{_UPPER}][{_UPPER}{_LOWER}'’\-]{{2,30}}(?:[ ][{_UPPER}](?:\.|[{_UPPER}{_LOWER}]{{2,30}})?)?)"
    r"(?=[ ]{2,}|\t|\"|\r?\n|$|[ ](?:DOB|MRN|\(|\|)|[ ][0-9]{1,4}[\-/.][0-9]|\^)")
# ...and in title case, where only an export's column or a quoted cell ends it ("Khan, Ayesha      03-Feb-1995",
# 'CN="Nakamura, Yuki"'), not a line's end ("Lagos, Nigeria")
_LAST_FIRST_CELL = re.compile(
    rf"([A-Z](?<![\w'’\-][A-Z])(?<!,[ ][A-Z])[{_LOWER}]{{1,3}}(?:['’]?[{_UPPER}])?[{_LOWER}]{{1,30}}"
    rf"(?:-[{_UPPER}][{_LOWER}]{{1,30}})?,[ ]{_WORD}(?:[ ][{_UPPER}]\.?)?)(?=[ ]{{2,}}|\t|\"[;:,\s]|[ ]\|)")
_PLACES_AFTER_COMMA = frozenset("""
alabama alaska arizona arkansas california colorado connecticut delaware florida georgia hawaii idaho illinois
indiana iowa kansas kentucky louisiana maine maryland massachusetts michigan minnesota mississippi missouri montana
nebraska nevada hampshire jersey mexico york carolina dakota ohio oklahoma oregon pennsylvania rhode tennessee texas
utah vermont virginia washington wisconsin wyoming usa canada england scotland wales ireland france germany spain
italy india china japan australia ontario quebec alberta columbia nigeria kenya ghana egypt brazil argentina chile
peru poland netherlands belgium sweden norway denmark finland portugal greece turkey israel singapore malaysia
philippines indonesia vietnam thailand korea pakistan bangladesh uae africa zealand switzerland austria czechia
romania hungary ukraine russia
""".split())  # noqa: SIM905
_STATES_OF_THINGS = frozenset({"success", "active", "inactive", "pending", "open", "yes", "no", "true", "false", "none",
                               "null", "unknown", "valid", "invalid", "ok", "error", "fail", "pass", "done", "new"})
_CUE_SPEAKER = re.compile(rf"-->[ ][0-9:.,]{{5,12}}[^\n]{{0,40}}\r?\n[ \t]{{0,8}}({_LAST_FIRST}|{_NAME}):[ ]")
# Confluence's and Teams' @mentions of a full name: "@Giedrė Balčiūnaitė"
_MENTIONED = re.compile(rf"({_NAME2})(?![\w'’\-@.])")  # (after its "@")
# a second person joined to one found: "for Mere Tūhoe-Walker and Sione Fifita"
_AND_NAME = re.compile(rf"[ ](?:and|&)[ ]({_NAME2})(?![\w'’\-])")


# A full name as the subject of a verb only people do: "Sunita Bhattacharya typed her SSN", "Olu Bello confirmed the
# fix"; the verbs (with the space before them) are found in the cue words' pass, the name matched just before one
_PERSON_VERBS = ("confirmed", "confirms", "reported", "reports", "said", "says", "rang", "phoned", "asked", "asks",
                 "typed", "mentioned", "wants", "requested", "requests", "emailed", "e-mailed", "replied", "responded",
                 "advised", "agreed", "complained", "noticed", "thinks", "apologised", "apologized", "forgot",
                 "forwarded", "approved", "signed", "rejected", "entered", "reviewed", "ran", "joined", "joins",
                 "noticed", "notices", "submitted", "paid", "changed")


def _cue_words() -> dict[str, tuple[int, re.Pattern[str] | None]]:  # → (its length, the pattern after it; None: a verb)
    words: dict[str, tuple[int, re.Pattern[str] | None]] = {}
    for verb in _PERSON_VERBS:
        words[" " + verb] = (len(verb) + 1, None)
    for cues, pattern in ((_CUES, _AFTER_CUE), (_ROLE_CUES, _AFTER_ROLE_CUE), (_FOREIGN_INTROS, _AFTER_ROLE_CUE),
                          (_TITLE_END_CUES, _AFTER_TITLE_END),
                          (_WEAK_CUES, _AFTER_WEAK_CUE),
                          (_TITLES, _AFTER_TITLE), (_INTRO_CUES, _AFTER_INTRO)):
        for cue in cues.split("|"):
            if cue != " m":  # (French "M." only with its dot and a space before: "m" is in most words)
                words[cue] = (len(cue), _AFTER_NAME_LABEL if cue.endswith("name") else pattern)
            if pattern is _AFTER_TITLE:
                words[cue + "."] = (len(cue) + 1, pattern)
            elif pattern is not _AFTER_WEAK_CUE and cue.isalpha():  # "the contact is …", two words ("… is Stable")
                for verb in (" is", " was"):
                    words[cue + verb] = (len(cue) + len(verb), _AFTER_ROLE_CUE)
    return words


_CUE_WORDS = FIXED.add(_cue_words())
# Patterns of a line's start begin with its newline and run over "\n" + text, offsets one more than in the text: the
# engine then jumps from newline to newline, where "^" would have it test every position (ten times slower).
# Chat speakers: "[10:04] Aigerim:", "10:04 Priya Raman:", Teams' "[12/7/2026 9:01 AM] Seun Bankole:" and
# "[11/30/2026 6:41 PM] Okafor, Lane:"
_SPEAKER = re.compile(
    rf"\n[ \t]{{0,8}}\[?(?:[0-9]{{1,4}}[/.\-][0-9]{{1,2}}[/.\-][0-9]{{1,4}},?[ ])?"
    rf"[0-9]{{1,2}}:[0-9]{{2}}(?::[0-9]{{2}})?(?:[ ]?[AaPp][Mm])?\]?[ \t]{{1,3}}({_LAST_FIRST}|{_NAME}):")
# A comment's author in brackets after its label, at a line's start: "Review (Pat Oyelaran):", "Nota HR (Luca
# Ferrari, …)", "RH (Bastien Roux) :"; a label that is a comment's or a desk's ("Deploy (Blue Green):" is none)
_AUTHOR_IN_BRACKETS = re.compile(rf"\n[ \t]{{0,8}}([A-Z][\w.&/\- ]{{0,40}}?)[ ]\(({_NAME2})(?:\)[ ]?:|,[ ])")
# A note's author named after "from" or "by" on its own line before a colon: "Note from Jasmine:", "Reply by Kofi:"
_NOTE_FROM = re.compile(
    rf"\n[ \t]{{0,8}}(?:Note|Notes|Message|Reply|Comment|Update|Email|E-mail|Voicemail|Call)[ ](?:from|by)[ ]"
    rf"({_NAME})[ ]?:")
_AUTHOR_LABEL_WORDS = """
review reviewer reply response answer comment comments note notes update approver approval agent tech engineer hr rh
payroll desk facilities reception receptionist him pharmacy nurse admin kommentar antwort komentarz odpowiedź
commentaire réponse respuesta comentario resposta nota opmerking reactie svar
"""
_AUTHOR_LABELS = frozenset(_AUTHOR_LABEL_WORDS.split())
# Teams-style exports: the speaker alone on a line with the time, the message below ("Mei Ling Tan 9:41 AM",
# "Service Desk (Carlos) 9:42"); without a bracket only with AM/PM ("Go Live 22:00" is a plan). The time at a
# line's end is found first (from its colon, rarer than digits), the speaker then matched between the line's start
# and it.
_LINE_END_TIME = re.compile(r":[0-9]{2}(?:[ ]?([AaPp][Mm]))?[ \t]*\r?\n[ \t]*[^\s]")
_STAMPED_SPEAKER = re.compile(
    rf"[ \t]{{0,8}}(?:({_NAME})[ ]\((?:External|Guest|Extern|Externe?|Gast)\)|[^\n()]{{1,40}}\(({_NAME})\)|({_NAME}))"
    rf"[ \t]{{1,3}}")
# "Priya Raman <priya.raman@acme.example>", "Raman, Priya (priya.raman@...)": the bracket found first, the name
# then matched in the few characters before it
_ADDRESS_OPENS = re.compile(r"[<(\[][\w.%+\-]{1,64}@")
_NAME_BEFORE = re.compile(rf"(?<![\w'’\-])({_LAST_FIRST}|{_NAME})[ ]{{1,2}}$")
# the answer on the line after a question about a person's name: "What's your name?\nUser: Søren Holm"
_NAME_QUESTION = re.compile(r"(?i:(?:full[ ]|first[ ]|last[ ]|sur)?name\b[^\n?]{0,40}[?.:]?[ \t]*)(?=\r?\n)")
_NAME_ANSWER = re.compile(rf"\r?\n[ \t]{{0,8}}[A-Z][A-Za-z ]{{0,24}}:[ \t]{{1,3}}({_NAME})[ \t.]*(?=\r?\n|$)")
# E-mail headers naming people without their address: "To: Camille Dubois", "Cc: Lars Eriksson; …"
_HEADER_NAME = re.compile(
    rf"\n(?:From|To|Cc|CC|Bcc|Sender|Recipient|Attendees)[ \t]?:[ \t]{{1,3}}({_NAME})[ \t]*(?=[;,\r\n]|$)")
# A message's author on a line of its own over a line that is only its time, as help desks export replies
# ("Renata Kowalczyk\nDec 1, 2026, 16:09 CET", "Tomás Ferreira (Shop Support)\n01/12/2026 16:20"); the time's line
# is found first (few lines are one), then the name on the line above
_TIME_LINE = re.compile(
    r"\n[ \t]{0,8}(?:[A-Z][a-z]{2,8},?[ ])?(?:[A-Z][a-z]{2,8}\.?[ ][0-9]{1,2}|[0-9]{1,2}[ ][A-Z][a-z]{2,8}\.?|"
    r"[0-9]{1,4}[/.\-](?:[0-9]{1,2}|[A-Z][a-z]{2})[/.\-][0-9]{2,4}),?(?:[ ][0-9]{4},?)?[ ](?:at[ ])?"
    r"[0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?(?:[ ]?[AaPp][Mm])?(?:[ ][A-Z]{2,5}|[ ]?[+\-][0-9:]{4,5})?[ \t]*(?=\r?\n|$)")
_AUTHOR_LINE = re.compile(rf"[ \t]{{0,8}}({_NAME2})(?:[ ]\([^()\n]{{1,40}}\))?[ \t]*\r?")
# (the name on the line under a sign-off, perhaps after a blank line, alone or before "| Title")
_UNDER_SIGN_OFF = rf"[,!.]?[ \t]*\r?\n(?:[ \t]*\r?\n)?[ \t]{{0,8}}(?-i:({_NAME}))[ \t]*(?:$|[|][ ]))"
# The line under a sign-off or the "-- " signature marker, perhaps after a blank line: "Regards,\nPriya Raman",
# "Best regards,\n\nNgoc Anh Pham | IT Coordinator"
_SIGNATURE = re.compile(
    rf"\n(?im:[ \t]{{0,8}}(?=[abcdfgklmprstuvwy\-])"  # (a sign-off's first letter: most lines fail here)
    rf"(?:thanks|thank you|many thanks|regards|best|best regards|kind regards|warm regards|"
    rf"thanks (?:and|&) regards|with (?:kind |best )?regards|best wishes|warm wishes|yours sincerely|yours truly|"
    rf"met vriendelijke groet(?:en)?|(?:mit )?freundlichen grüßen|(?:viele |liebe )?grüße|cordialement|"
    rf"bien à vous|saludos|un saludo|atentamente|cordiali saluti|distinti saluti|pozdrawiam|groeten|mvh|"
    rf"med vänlig hälsning|vänliga hälsningar|med venlig hilsen|ystävällisin terveisin|"
    rf"cheers|sincerely|br|ta|--){_UNDER_SIGN_OFF}"
)  # (also longer sign-offs and those of other languages: "Thanks and regards", "Met vriendelijke groet")

# Logins after their label: "user: jdoe", "user=aigerim.ylmaz61", "logged in as CORP\\jdoe", "AD account a.smith".
# The labels are found in one Aho-Corasick pass; the value is matched only right after one.
# A field's name says its value is a login ("username dfox"); after a word of prose ("user", "AD account") a plain
# word is one only when ":", "=" or a quote sets it apart, or an account's state or a source address follows.
_LABEL_WORDS = ("username", "user name", "user_name", "userid", "user id", "user_id", "login", "logon", "uid",
                "samaccountname", "upn", "logged in as", "logged on as", "signed in as", "log in as", "logs in as",
                "sign in as", "signs in as", "account name", "username issued", "username created", "new username",
                "login issued", "login created", "new login",
                # other languages' ("Benutzername oyilmaz84", "O usuário jpalbuquerque foi bloqueado")
                "benutzername", "benutzerkonto", "usuário", "usuario", "utilisateur", "identifiant", "gebruiker",
                "gebruikersnaam", "användarnamn", "nome utente",
                "targetusername", "subjectusername")
_PROSE_LABELS = ("user", "ad account", "user account", "domain account", "network account", "windows account",
                 "password for", "publickey for")
# (a login ends with no dot, "no AD account yet."; machine accounts end with "$": "Account Name: DC01$")
_LOGIN_VALUE = re.compile(
    r"([ \t]{0,2}[=:][ \t]{0,2}[\"']?|[ \t]{1,2}[\"']?)([A-Za-z0-9.\-]{1,15}\\)?"
    r"([A-Za-z](?:[A-Za-z0-9_\-]|\.(?=[A-Za-z0-9])){1,63})(?![\w@\-$])")
_LOGIN_SHAPE = re.compile(r"[0-9._\-]")
# A log line's "… for [invalid ]user X from 81.2.69.160" or sshd's "Failed password for X from …"
_FROM_ADDRESS = re.compile(r"[ ]from[ ][0-9a-fA-F:.]{3,39}(?![\w.:])")
# pam's "session opened for user kbrandt(uid=10432) by (uid=0)" (older: "… for user kbrandt by (uid=0)")
_PAM_UID = re.compile(r"(?:\(uid=|[ ]by[ ](?:\(uid=|[a-z_][a-z0-9._\-]{0,31}\(uid=))")
# An administrator's verb, a login and the directory it lives in: "Create falzahra in AD", "disable jdoe in Okta"
_ADMIN_VERBS = ("create", "created", "disable", "disabled", "enable", "enabled", "re-enable", "re-enabled", "unlock",
                "unlocked", "lock", "locked", "delete", "deleted", "remove", "removed", "deprovision", "deprovisioned",
                "provision", "provisioned", "suspend", "suspended", "reactivate", "reactivated", "rename", "renamed",
                "reset", "add", "added", "give", "grant", "granted")
_ADMIN_TARGET = re.compile(
    r"[ ]([a-z][a-z0-9_\-]{1,30}(?:\.[a-z][a-z0-9_\-]{0,30})?)[ ](?:in|on|from)[ ](?:the[ ])?"
    r"(?:AD|Active Directory|Okta|Entra(?: ID)?|Azure AD|AAD|LDAP|O365|Office 365|M365|Google Workspace|domain)"
    r"(?![\w\-])")
_NOT_LOGIN_WORDS = """
it them him her his this that these those all everyone user users account accounts access password passwords mfa
group groups licence license mailbox profile permissions rights printer printers laptop laptops device devices
machine machines pc pcs screen policy policies gpo ou object objects entry entries attribute attributes member
members app apps application applications certificate certificates key keys token tokens contact contacts share
shares folder folders file files site sites channel channels autologin sso memory disk disks cpu cpus vcpu vcpus
ram storage space volume volumes nic nics swap quota capacity seat seats role roles permission policy vm vms host
"""
_NOT_LOGINS = frozenset(_NOT_LOGIN_WORDS.split())
# A plain word after "user " is a login only when what follows speaks of an account's state: "user dfox locked out"
_ACCOUNT_STATE = re.compile(
    r"[ \t]{1,2}(?:is |was |has been |got |gets |keeps getting |still )?(?:locked|unlocked|disabled|enabled|expired|"
    r"suspended|deactivated|reactivated|re-enabled)\b", re.IGNORECASE)
# what a person does after "user X": "user gkaradeniz says outlook crashes"
_PERSON_ACTS = re.compile(r"[ \t]{1,2}(?:says|said|reports|reported|cannot|can't|can not|is unable|was unable|needs|"
                          r"wants|asked|called|rang|tried|tries)\b")
# "give lmbeki and o.adebayo read access": logins an administrator grants access to
# "reset for araghunathan and zkovacs", "unlock for tvoss": logins an administrator acted for
_ACTED_FOR = re.compile(
    r"[ ]for[ ]((?:[a-z][a-z0-9_\-]{1,30}(?:\.[a-z][a-z0-9_\-]{0,30})?(?:,[ ]|[ ]and[ ]|[ ]&[ ])){0,4}"
    r"[a-z][a-z0-9_\-]{1,30}(?:\.[a-z][a-z0-9_\-]{0,30})?)(?=[,.;:]|[ ](?:and[ ](?!\w+[ ](?:for|and)))?|$)")
_ADMIN_ACCESS = re.compile(
    r"[ ]((?:[a-z][a-z0-9_\-]{0,30}(?:\.[a-z][a-z0-9_\-]{0,30})?(?:,[ ]|[ ]and[ ]|[ ]&[ ])){0,4}"
    r"[a-z][a-z0-9_\-]{0,30}(?:\.[a-z][a-z0-9_\-]{0,30})?)[ ](?:(?:read|write|read-only|admin|full|edit|view|rw|ro|"
    r"remote|vpn)[ ])?access\b")
_ACCESS_LOGIN = re.compile(r"[a-z][a-z0-9_.\-]*[a-z0-9]")
# a person stating a login: "my id is viyer", "her login is jampofo", "my user ID is btuilagi"; found from " is " or
# " was " after one of the nouns, the owner then matched before it and the login after it
_STATED_MARK = "stated"  # (the label pass's value for these keys: no log literal is this word)
_STATED_KEYS = tuple(f"{noun}{verb} " for noun in ("id", "login", "name", "account") for verb in (" is", " was"))
_STATED_OWNER = re.compile(
    r"(?i:\b(?:my|his|her|their|your)[ ](?:user[ ]?name|login(?:[ ](?:id|name))?|user[ ]?id|id|network[ ]id|"
    r"account(?:[ ]name)?))$")
_STATED_VALUE = re.compile(r"[ \t]+([a-z][a-z0-9._\-]{2,30})(?![\w@\-]|\.\w)")
_NOT_STATED = frozenset("""
not still now the a an being broken locked unlocked disabled enabled expired wrong different same missing correct
incorrect invalid blocked suspended working fine ok okay gone deleted active inactive new old same empty blank
required needed there here also already""".split())  # noqa: SIM905
# the remote user of a web server's access log: "81.2.69.160 - kfarouk [04/Dec/2024:11:02:44 +0000] \"GET …"
_ACCESS_LOG_USER = re.compile(r"\n[0-9a-fA-F:.]{3,39}[ ]-[ ]([A-Za-z][A-Za-z0-9._@\-]{0,63})[ ]\[[0-9]{2}/")
# Words that follow "user" in prose and are no login, before a state word ("user account locked", "user is locked")
_AFTER_USER_WORDS = """
account accounts profile profiles is was has had got gets keeps still reports reported says said also then now
just again already sometimes being been cannot can't could name id ids access session sessions login logins
password passwords mailbox record records object objects group groups role roles failure failures fails
attempt attempts error errors issue issues problem problems page screen prompt loop usual normal normally before
issued created assigned generated provided changed
"""
_AFTER_USER = frozenset(_AFTER_USER_WORDS.split())
# DOMAIN\\login: a NetBIOS domain in capitals, a backslash and the account ("ACME\\jdoe"); not a drive, registry hive
# or UNC path ("C:\\Users", "HKLM\\Software", "\\\\fs01\\share")
_DOMAIN_LOGIN = re.compile(r"(?<![\w\\:$])([A-Z][A-Z0-9\-]{1,14})\\([A-Za-z][A-Za-z0-9._\-]{1,63})(?![\w@\\\-])")
_DOMAIN_HINT = re.compile(r"[A-Z0-9\-]\\[A-Za-z]")
_NOT_DOMAINS = frozenset({"HKLM", "HKCU", "HKCR", "HKU", "HKCC", "HKEY", "BUILTIN", "SYSTEM", "SOFTWARE", "WINDOWS"})
# The answer to a question about a login: "can you confirm your username?" ... "it's dfox"
_LOGIN_QUESTION = re.compile(
    r"(?i:\b(?:user ?name|user ?id|login(?: name| id)?|logon name|account name)\b[^\n?]{0,60}\?)")
_LOGIN_ANSWER = re.compile(
    r"(?i:\b(?:it['’]s|it is|its|mine is|mine['’]s|my (?:user ?name|login|user ?id) is|that['’]s))[ \t]+"
    r"((?-i:[a-z][a-z0-9._\-]{2,63}))(?![\w@\-]|\.\w)")
# a login where a people field names a person: "Requested for: d.mwangi", "Caller: tkaur2"
_FIELD_LOGIN = re.compile(r":[ \t]{1,2}([a-z][a-z0-9]*(?:[._\-][a-z0-9]+)+|[a-z]{3,}[0-9]{1,4})(?![\w@.\-])")
# Active Directory's PowerShell: "Get-ADUser l.aberg", "Unlock-ADAccount -Identity mchow", "-Members a.b, cdef"
# (lower-case values only: a group's name, "-Identity GG-VPN-Users", is capitalised)
_POWERSHELL_HINT = re.compile(r"(?i:-AD(?:User|Account|GroupMember|PrincipalGroupMembership)\b)")
_POWERSHELL_LOGINS = re.compile(
    r"(?i:(?:Get|Set|Unlock|Enable|Disable|Remove|New)-AD(?:User|Account)|-Identity|-SamAccountName|-Members?)[ ]+"
    r"[\"']?((?-i:[a-z][a-z0-9._\-]{1,63}(?:,[ ]?[a-z][a-z0-9._\-]{1,63}){0,9}))(?![\w@\-])")
# "ssh j.kowalski@bastion-01": the login before a host that is no mail domain
_SSH_LOGIN = re.compile(r"(?:-l[ ])?([a-z_][a-z0-9._\-]{1,31})@[A-Za-z0-9][A-Za-z0-9\-]*(?![\w@.\-]|\.[A-Za-z])")
# the answer on the line after the question, alone: "Agent: and your username?\nCaller: dchandrasek"
_ANSWER_LINE = re.compile(r"\r?\n[ \t]{0,8}[A-Z][A-Za-z ]{0,24}:[ \t]{1,3}([a-z][a-z0-9._\-]{2,63})[ \t.]*(?=\r?\n|$)")
# chat exports whose speakers are logins: "[2024-12-03 08:58] ana.souza: …", "[09:01] kbrandt: …"
_LOGIN_SPEAKER = re.compile(
    r"\n[ \t]{0,8}\[(?:[0-9]{4}-[0-9]{2}-[0-9]{2}[ T])?[0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?\][ \t]{1,3}"
    r"([a-z][a-z0-9_\-]*(?:\.[a-z0-9_\-]+)*):[ \t]")
# "@ana.souza" (Slack, Teams), "[~hwalker]" (Jira wiki markup); the "@" or "[~" found first
_MENTION = re.compile(r"@([a-z][a-z0-9_\-]*(?:\.[a-z0-9_\-]+)*)(?![\w@])")
_JIRA_MENTION = re.compile(r"\[~(?:accountid:)?([A-Za-z0-9][A-Za-z0-9._\-]{1,63})\]")
_NOT_MENTIONS = frozenset("""
here channel everyone all team property staticmethod classmethod override dataclass param return returns throws
see author since version deprecated media import keyframes charset supports page echo home link code example
""".split())  # noqa: SIM905
# sudo's "kbrandt : TTY=pts/0 ; …" and home folders "/home/kbrandt", "C:\\Users\\kbrandt", macOS's "/Users/kbrandt"
# (capitalised only: a web path's "/users/me" is none)
_SUDO_LOGIN = re.compile(r"([a-z_][a-z0-9._\-]{0,31})$")
_HOME_LOGIN = re.compile(r"([a-z_][a-z0-9._\-]{1,31})(?![\w.\-])", re.IGNORECASE)
_SHAPE_LITERALS = (" : TTY=", "/home/", "\\Users\\", "/Users/", "#EXT#", "ssh ", "/personal/")
# a OneDrive address holds its owner's sign-in name: "…-my.sharepoint.com/personal/rose_achterberg_corp_example"
_ONEDRIVE_LOGIN = re.compile(r"([a-z0-9][a-z0-9._\-]{1,100})(?![\w.\-])")
_NOT_HOMES = frozenset({"public", "default", "default user", "all users", "user", "users", "shared", "lost+found"})
# Entra guest accounts: "priya.nair_partnerco.example#EXT#"
_GUEST_HEAD = re.compile(r"[A-Za-z0-9._\-]{1,80}$")
# an administrator's verb, a login and the group it joins or leaves: "add rkapoor to GG-Radiology-PACS-RW"
_ADMIN_TO_GROUP = re.compile(
    r"[ ]([a-z][a-z0-9_\-]{1,30}(?:\.[a-z][a-z0-9_\-]{0,30})?)[ ](?:to|from|into)[ ](?:the[ ])?(?:group[ ])?"
    r"(?=[a-z0-9]*[A-Z])[A-Za-z0-9]+[-_][A-Za-z0-9_\-]+")
# a list of logins after its label: "Affected users: rmatsumoto, a.nakashima, grobles"
_LOGIN_LIST = re.compile(
    r"(?i:\b(?:affected|impacted|locked|disabled|compromised|target(?:ed)?)[ ](?:users|accounts)):[ ]{1,2}"
    r"((?-i:[a-z][a-z0-9_\-]{0,30}(?:\.[a-z][a-z0-9_\-]{0,30})?(?:,[ ]?|[ ]and[ ])){0,19}"
    r"[a-z][a-z0-9_\-]{0,30}(?:\.[a-z][a-z0-9_\-]{0,30})?)(?![\w@\-])")
# an access grant's group, then the login it went to: "granted FIN_REPORTING_RO to aredcloud"
_GROUP_TO_LOGIN = re.compile(
    r"(?i:\bgrant(?:ed|s)?)[ ](?=[A-Za-z0-9\-]*[A-Z_])[A-Za-z0-9_\-]{3,60}[ ]to[ ]"
    r"([a-z][a-z0-9_\-]{1,30}(?:\.[a-z][a-z0-9_\-]{0,30})?)(?![\w@\-]|\.\w)")
# first.last (with digits) standing alone near a word about accounts or access: "VPN drops for april.iyer"
_DOTTED_TAIL = re.compile(r"\.([a-z][a-z'\-]{1,30})[0-9]{0,4}(?![\w@/\\\-]|\.\w)")
_HEAD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz'-")
_ACCESS_CUES = re.compile(
    r"(?i:\b(?:user|users|username|login|logon|logins|account|accounts|acct|ad|vpn|sso|mfa|2fa|okta|password|passwd|"
    r"pwd|locked|lockout|unlock|unlocked|reset|access|sign[ -]?in|signin|credentials|mailbox|profile|onboard|"
    r"onboarding|offboard|offboarding|disable|disabled|enable|enabled|provision|provisioned)\b)")
# A dotted word that is a file, a domain or code rather than a person's login
_DOTTED_TAIL_WORDS = """
com net org io local lan corp internal intra example txt log csv json xml yaml yml ini cfg conf py js ts java sh ps1
bat exe dll msi zip gz tar pdf doc docx xls xlsx ppt pptx png jpg jpeg gif md html htm jar war sql bak tmp dat db
"""
_DOTTED_TAILS = frozenset(_DOTTED_TAIL_WORDS.split())
_DOTTED_HEADS = frozenset({"self", "this", "os", "sys", "re", "np", "pd", "cls", "obj", "app", "config", "settings",
                           "request", "response", "java", "javax", "org", "com", "net", "io", "www"})


_SUFFIX = (r"street|st|avenue|ave|road|rd|lane|ln|drive|dr|boulevard|blvd|court|ct|place|pl|terrace|close|crescent|"
           r"way|highway|hwy|parkway|pkwy|square|sq|circle|cir|trail|row|walk|gardens|grove|hill|strasse|straße|"
           r"weg|gasse|allee|platz|rue|calle|via|avenida|"
           # British, Irish, Canadian and Indian street types: "5 Kirk Brae", "12 Ashgrove Park", "88 Queens Quay W",
           # "Sai Krupa Apartments"
           r"quay|brae|mews|park|parade|wharf|esplanade|apartments|heol|ffordd|stryd|cottages|cottage|villas|"
           r"buildings|croft|rise|dock|cross")
_GLUED = ("way", "gate", "field", "ford", "side")
_DIRECTION = r"(?:N|S|E|W|NE|NW|SE|SW|North|South|East|West)"
_CITY = rf"{_WORD}(?:[ ]{_WORD}){{0,2}}"
_ORDINAL = r"[0-9]{1,3}(?:st|nd|rd|th)(?![\w])"  # "45th St", "2nd Main Road", "4th Floor"
_STREET_WORD = rf"(?:{_WORD}|{_ORDINAL})"
# (Canadian "H3B 4W8", Irish "P31 X2E4", Indian "560038" besides US, UK and Australian ones)
_POSTCODE = (r"(?:[A-Z][0-9][A-Z][ ]?[0-9][A-Z][0-9]|[A-Z][0-9]{2}[ ]?[A-Z0-9]{4}|[1-9][0-9]{5}|[0-9]{5}(?:-[0-9]{4})?|"
             r"[A-Z]{1,2}[0-9][A-Z0-9]?[ ]?[0-9][A-Z]{2}|[0-9]{4,5})(?![\w])")
# the street: its name then its type ("Moss Lane", "NE 45th St"), or a leading type then its name ("Rue Saint-Jean",
# "rue des Lilas", "Calle de Alcalá")
_LEADING = r"rue|avenue|boulevard|chemin|calle|avenida|rua|via|heol|ffordd|stryd"  # (Welsh: "12 Heol y Parc")
_STREET = (rf"(?:(?i:{_LEADING})(?:[ ](?:{_PARTICLE}|d['’]|des|du)){{0,2}}(?:[ ]{_WORD}){{1,3}}"
           rf"|(?:{_DIRECTION}\.?[ ])?(?:{_STREET_WORD}[ ]){{0,3}}"
           rf"(?:(?i:{_SUFFIX})\.?(?![\w])|[{_UPPER}][{_LOWER}]{{2,20}}(?:{'|'.join(_GLUED)})))")
# a unit or floor after the street: "Apt 210", "Suite 2200", "Unit 1504", "4th Floor"
_UNIT_AFTER = (rf"(?:,?[ ](?:(?i:apt|apartment|suite|ste|unit|flat|floor|fl|#)\.?[ ]?#?[0-9A-Za-z]{{1,6}}"
               rf"(?:-[0-9]{{1,5}})?"
               rf"|{_ORDINAL}[ ](?i:floor|fl\.?)))")
# then the places after it, comma-separated (suburb, city, county, state: "Jayanagar 4th Block, Bengaluru,
# Karnataka 560011", "Ballincollig, Co. Cork, P31 X2E4"), a state or province code, a postcode
_PLACES = rf"(?:,[ ](?:Co\.[ ])?{_STREET_WORD}(?:[ ]{_STREET_WORD}){{0,2}}(?:[ ][0-9]{{1,2}}(?![\w]))?){{1,4}}"
# (a postal district after its city: "Dublin 2")
_ADDRESS_TAIL = rf"(?:{_PLACES}(?:,?[ ][A-Z]{{2,3}}(?![\w]))?(?:,?[ ]{_POSTCODE})?|,?[ ][0-9]{{4,5}}[ ]{_CITY})?"
_ADDRESS = re.compile(
    rf"[0-9](?<![\w/.\-][0-9])[0-9]{{0,5}}[A-Za-z]?(?:/[0-9]{{1,5}}[A-Za-z]?)?,?[ ]"
    rf"{_STREET}(?:[ ]{_DIRECTION}(?![\w]))?(?:[ ][0-9]{{1,3}}(?![\w]))?{_UNIT_AFTER}{{0,2}}{_ADDRESS_TAIL}"
)  # (a number after the street type: Singapore's "Ang Mo Kio Ave 3, #08-1234")
# The same in capitals, as forms and OCR give them: "2209 W. FULLERTON AVE APT 3R CHICAGO IL 60647"
_ADDRESS_CAPS = re.compile(
    rf"[0-9](?<![\w/.\-][0-9])[0-9]{{0,5}}[ ](?:[NSEW]\.?[ ])?(?:[A-Z][A-Z'\-]{{1,30}}[ ]|{_ORDINAL}[ ]){{1,3}}"
    rf"(?:{_SUFFIX.upper()})\.?(?![\w])(?:,?[ ](?:APT|UNIT|STE|SUITE|#)\.?[ ]?#?[0-9A-Z]{{1,6}})?"
    rf"(?:,?[ ][A-Z]{{3,}}(?:[ ][A-Z]{{3,}}){{0,2}},?[ ][A-Z]{{2}}[ ][0-9]{{5}}(?:-[0-9]{{4}})?(?![\w]))?"
)
# Typed fast in lower case, with its town, state and ZIP (so a phrase like "2 main st" alone is not taken): "88 willow
# brook ln, marietta ga 30068"
_ADDRESS_LOWER = re.compile(
    r"[0-9](?<![\w/.\-][0-9])[0-9]{0,5}[ ](?:[a-z]{2,20}[ ]){1,3}(?:street|st|avenue|ave|road|rd|lane|ln|drive|dr|"
    r"boulevard|blvd|court|ct|place|pl|way|circle|cir|terrace|ter|parkway|pkwy)\.?(?:,?[ ](?:apt|unit|ste|#)[ ]?"
    r"[0-9a-z]{1,5})?,?[ ][a-z]{3,20}(?:[ ][a-z]{3,20})?,?[ ][a-z]{2}[ ][0-9]{5}(?:-[0-9]{4})?(?![\w])")
# Brazil writes the number after a comma, then the flat, the district, the city, the state and the CEP: "Rua
# Augusta, 1508, apto 92, Consolação, São Paulo - SP, 01304-001"
_BR_ADDRESS = re.compile(
    rf"(?<![\w])(?i:rua|avenida|av\.|alameda|travessa|rodovia|estrada)(?:[ ](?:{_WORD}|d[aeo]s?|de)){{1,5}},[ ]"
    rf"[0-9]{{1,5}}(?:[ ]?[A-Za-z])?(?:,[ ](?i:apto|apt|ap|sala|bloco|casa|conj)\.?[ ]?[0-9A-Za-z]{{1,6}})?"
    rf"(?:,[ ]{_CITY}){{0,3}}(?:[ ]-[ ][A-Z]{{2}})?(?:,?[ ](?:CEP[ :]{{1,2}})?[0-9]{{5}}-?[0-9]{{3}}(?![\w]))?")
# a Japanese address after its postal mark, to the line's end: "〒150-0002 東京都渋谷区渋谷2-21-1 渋谷ヒカリエ 19F"
_JP_ADDRESS = re.compile(r"〒[ ]?[0-9]{3}-[0-9]{4}[^\n]{0,60}")
_TYPED_ZIP = re.compile(r"[a-z]{2}[ ][0-9]{5}")  # (where a lower-case address may end: tested first)
# a post office box with its town: "PO Box 4471, Tualatin, OR 97062", "P.O. Box 12"
_PO_BOX = re.compile(rf"(?<![\w])(?i:p\.?[ ]?o\.?[ ]box)[ ][0-9]{{1,6}}(?![\w]){_ADDRESS_TAIL}")


# A flat or unit before the house number: "Flat 3, 27 Marlborough Road", "Unit 5, 22 Smith Street"; or the word
# alone before the number it qualifies: "Unit 4/17 Wattle St", "No. 14, 2nd Main Road"
_UNIT_BEFORE = re.compile(
    r"(?i:flat|unit|apt|apartment|suite|level|floor|shop|no|blk|block)\.?[ ]?(?:(?i:no)\.?[ ])?"
    r"(?:[0-9A-Za-z]{1,5},?[ ])?$")
# Street name first, then the number and a postcode with its city (continental Europe): "Via Giuseppe Verdi 27, 20121
# Milano", "Storgatan 14, 114 55 Stockholm", "Hanauer Landstraße 184, 60314 Frankfurt am Main". The street's word is
# found first (a street type glued to its end, or a leading word such as "Via"); the rest is matched after it.
_EU_GLUED = ("straße", "strasse", "str.", "weg", "gasse", "allee", "platz", "ring", "damm", "ufer", "gatan", "gata",
             "vägen", "väg", "gade", "vej", "veien", "vegen", "gracht", "straat", "laan", "plein", "kade", "singel",
             "katu", "utca")
_EU_LEADING = ("via", "viale", "piazza", "corso", "largo", "rue", "avenue", "boulevard", "bd", "place", "quai",
               "chemin", "calle", "avenida", "av.", "plaza", "paseo", "carrer", "rua", "praça", "travessa", "ul.",
               "al.", "plac", "náměstí", "ulica")
_EU_POSTCODE = (r"(?:[0-9]{4}-[0-9]{3}|[0-9]{5}|[0-9]{4}(?:[ ]?[A-Z]{2})?|[0-9]{3}[ ][0-9]{2}|[0-9]{2}-[0-9]{3}|"
                r"[A-Z]{1,2}-[0-9]{4,5})")
_EU_TAIL = re.compile(
    rf"(?:[ ](?:{_WORD}|{_PARTICLE}|d['’]|dei|des|do)){{0,3}}[ ][0-9]{{1,4}}[A-Za-z]?"
    rf"(?:[/\-](?:[0-9]{{1,4}}|[IV]{{1,4}}|hs))?"
    rf"(?:[ ](?:m\.|lok\.|bus|boîte)[ ]?[0-9]{{1,4}}|,[ ][0-9]{{1,2}}[º°ª]"
    rf"(?:[ ]?(?:[A-Z]|izq(?:da)?\.?|dcha\.?|der\.?|dch\.?)(?![\w]))?)?"  # "3º B", "4º izq.", Dutch "452-III"
    rf",?[ ]{_EU_POSTCODE}[ ]{_CITY}"
    rf"(?:[ ](?:am|an|im|sur|en)[ ]{_WORD})?")
_WORD_BEFORE = re.compile(rf"(?<![\w'’\-])({_WORD})[ ]$")
# the number first, before a leading street word: "14 Rue des Lilas, 75011 Paris", "12 bis, Avenue Foch, 75116 Paris"
_EU_NUMBER_BEFORE = re.compile(r"(?<![\w/.\-])[0-9]{1,4}(?:[ ]?(?:bis|ter|[A-Za-z]))?,?[ ]$")
_EU_NAME_TAIL = re.compile(
    rf"(?:[ ](?:{_WORD}|{_PARTICLE}|d['’]|dei|des|do)){{1,4}},?[ ]{_EU_POSTCODE}[ ]{_CITY}")


# Months that are given names too ("April Iyer", "June Park"): a name's word where the rest of it is a name
_GIVEN_MONTHS = frozenset({"april", "may", "june", "august"})


def _plausible_name(value: str, alone: bool = False) -> bool:
    """No word of it is IT or office vocabulary; a month that is also a given name may lead a longer name, or stand
    alone where only a name can (`alone`: a chat speaker, the line under a sign-off)."""
    words = [w.strip(",").casefold() for w in value.split()]
    if not words:
        return False
    months = sum(w in _GIVEN_MONTHS for w in words)
    if months and (len(words) > months or alone) and not any(
            w in _NOT_NAMES and w not in _GIVEN_MONTHS for w in words):
        return True
    return not any(w in _NOT_NAMES for w in words)


def _name_finding(text: str, start: int, end: int, alone: bool = False) -> Finding | None:
    """The name in text[start:end]; none when a word of it is no name ("Application Support", "Hi Team")."""
    value = text[start:end]
    if not _plausible_name(value, alone):
        return None
    if "," in value:
        last, first = (p.strip() for p in value.split(",", 1))
        value = f"{first} {last}"
    return Finding(start, end, E.PERSON, " ".join(value.split()).casefold())


def people(text: str) -> list[Finding]:
    """People's names by their position in the text (greetings, sign-offs, speakers, headers, cue words)."""
    found = []
    lowered, exact = lower_case(text)
    if exact:  # (a few characters lower-case to two; their texts skip the cue words)
        n = len(text)
        for last, (length, pattern) in FIXED.hits(lowered, _CUE_WORDS):
            start, end = last + 1 - length, last + 1
            # what follows a cue word starts so (most hits end a word); a payload's name field also '"', '>', '='
            if end < n and text[end] in "\"'" and pattern in (_AFTER_CUE, _AFTER_ROLE_CUE) and (
                    ":" in text[end + 1:end + 3]):
                pattern = _AFTER_NAME_LABEL  # a payload's field named for a person: '"holder":"Ada Eze"'
            if end >= n or (text[end] not in ",: !" and not (pattern is _AFTER_NAME_LABEL and text[end] in "\"'>=")):
                continue
            if pattern is None:
                if text[end] == " " and (f := _subject(text, start)):
                    found.append(f)
                continue
            if start and lowered[start - 1].isalnum() and lowered[start] not in "@ \n":  # (" till" has its space)
                continue
            if pattern is _AFTER_TITLE and not _titled(text, lowered, start, end):
                continue  # "dr" in an address, "MS Project", "MR" (a merge request)
            if not (m := pattern.match(text, end)):
                if text[end] == ":" and pattern is not _AFTER_TITLE and (login := _FIELD_LOGIN.match(text, end)):
                    found.append(Finding(login.start(1), login.end(1), E.USERNAME, login.group(1)))
                elif text[end] == " " and "a" <= text[end + 1:end + 2] <= "z" and (
                        lowered[start:end] in _TYPED_CUES) and (typed := _typed_name(text, end)):
                    found.append(typed)
                continue
            comma = text.find(",", m.start(1), m.end(1))
            if comma > 0 and " " in text[m.start(1):comma] and " " in text[comma + 2:m.end(1)]:
                # full names on both sides of the comma are two people ("Maren Solheim, Ruslan Abenov"), not a
                # "Last, First"
                found += [g for g in (_name_finding(text, m.start(1), comma), None if _NUMBER_AFTER.match(
                    text, m.end(1)) else _name_finding(text, comma + 2, m.end(1))) if g]
                continue
            f = _name_finding(text, m.start(1), m.end(1))
            if f is None and comma > 0 and (  # "Lachlan Fitzgerald, Unit 5"
                    pattern is not _AFTER_WEAK_CUE or " " in text[m.start(1):comma]):
                f = _name_finding(text, m.start(1), comma)
            if f:
                found.append(f)
    for m in _ADDRESS_OPENS.finditer(text):
        offset = max(0, m.start() - 90)
        if (before := _NAME_BEFORE.search(text, offset, m.start())) and (
                f := _name_finding(text, before.start(1), before.end(1))):
            found.append(f)
    lines = "\n" + text
    for pattern in (_SPEAKER, _SIGNATURE, _HEADER_NAME):
        for m in pattern.finditer(lines):
            if f := _name_finding(text, m.start(1) - 1, m.end(1) - 1, alone=pattern is not _HEADER_NAME):
                found.append(f)
    if "(" in text:
        for m in _AUTHOR_IN_BRACKETS.finditer(lines):
            if m.group(1).split()[-1].lower() in _AUTHOR_LABELS and (
                    f := _name_finding(text, m.start(2) - 1, m.end(2) - 1)):
                found.append(f)
    for m in _NOTE_FROM.finditer(lines):
        if f := _name_finding(text, m.start(1) - 1, m.end(1) - 1, alone=True):
            found.append(f)
    for m in _TIME_LINE.finditer(lines):
        above = lines.rfind("\n", 0, m.start())
        if above >= 0 and (a := _AUTHOR_LINE.fullmatch(lines, above + 1, m.start())) and (
                f := _name_finding(text, a.start(1) - 1, a.end(1) - 1, alone=True)):
            found.append(f)
    if ", " in text:
        # (title case only where a column, a quoted cell or a bar may end it: most prose has none of these)
        cells = "  " in text or "\t" in text or '"' in text or " |" in text
        patterns = (_CAPS_LAST_FIRST, _LAST_FIRST_CELL) if cells else (_CAPS_LAST_FIRST,)
        for m in (m for pattern in patterns for m in pattern.finditer(text)):
            given = m.group(1).split(",", 1)[1].split()[0]
            if given.casefold() not in _PLACES_AFTER_COMMA and not (given.isupper() and (  # "MARISOL, GRANTED"
                    given.endswith(("ED", "ING")) or given.casefold() in _STATES_OF_THINGS)) and (
                    f := _name_finding(text, *m.span(1), alone=True)):
                found.append(f)
    if "-->" in text:  # a transcript's speaker under its cue's timing (WebVTT, SRT: Zoom, Teams recordings)
        for m in _CUE_SPEAKER.finditer(text):
            if f := _name_finding(text, *m.span(1), alone=True):
                found.append(f)
    at = text.find("@")
    while at >= 0:  # (the sign first: a pattern's look-behind would be tried at every position)
        if (at == 0 or not (text[at - 1].isalnum() or text[at - 1] in "_.@")) and (
                m := _MENTIONED.match(text, at + 1)) and (f := _name_finding(text, *m.span(1))):
            found.append(f)
        at = text.find("@", at + 1)
    at = lowered.find("your ")  # (the question found from "your ", then matched after it)
    while at >= 0:
        if (q := _NAME_QUESTION.match(text, at + 5)) and (a := _NAME_ANSWER.match(text, q.end())) and (
                f := _name_finding(text, *a.span(1), alone=True)):
            found.append(f)
        at = lowered.find("your ", at + 5)
    for f in list(found):
        if f.entity == E.PERSON and " " in f.key and text.startswith((" and ", " & "), f.end) and (
                m := _AND_NAME.match(text, f.end)) and (g := _name_finding(text, *m.span(1))):
            found.append(g)
    typed_speakers: list[Finding] = []
    for m in _LINE_END_TIME.finditer(text):
        hour = colon = m.start()  # one or two digits, after a space or tab
        while hour > 0 and colon - hour < 2 and "0" <= text[hour - 1] <= "9":
            hour -= 1
        if hour == colon or hour == 0 or text[hour - 1] not in " \t":
            continue
        line = text.rfind("\n", 0, hour) + 1
        if (s := _STAMPED_SPEAKER.fullmatch(text, line, hour)) and (s.group(1) or s.group(2) or m.group(1)) and (
                f := _name_finding(text, *s.span(1 if s.group(1) else 2 if s.group(2) else 3))):
            found.append(f)
        elif m.group(1) and (s := _TYPED_SPEAKER.fullmatch(text, line, hour)) and _typed_word(s.group(1)):
            typed_speakers.append(Finding(s.start(1), s.end(1), E.PERSON, s.group(1)))
    if len(typed_speakers) >= 2:  # a chat export's lines ("will 8:58 AM"), not one deadline ("cutover 5:00 PM")
        found += typed_speakers
    found += _named_by_place(text)
    return found


_DIGIT_BEFORE = re.compile(r"[0-9][^\n]{0,14}\Z")


def _titled(text: str, lowered: str, start: int, end: int) -> bool:
    """A title as people write one: capitalised ("Dr", "Herrn"), "M." with its dot (French), or fast-typed notes'
    "pt" and "dr" in lower case ("pt Margarida Leal", "dr Okafor"), not after a house number ("12 Elm dr")."""
    if lowered[start:end] == " m.":
        return text[start:end] == " M."
    if text[start].isupper() and text[start + 1:end].rstrip(".").islower():
        return True
    return lowered[start:end].rstrip(".") in ("pt", "dr") and text[start:end].islower() and (
        _DIGIT_BEFORE.search(text, max(0, start - 16), start) is None)


# Fast-typed notes write a name in lower case after its cue: "caller grace obi says …", "spoke w bill hartigan re
# card", "member consuelo ibarra dob …"; two words, then a word that follows a person in such notes
_TYPED_NAME = re.compile(
    r"[ ]([a-z][a-z'\-]{1,20}[ ][a-z][a-z'\-]{1,25})(?=[ ,](?:says|said|asked|asks|re|dob|from|calling|called|wants|"
    r"reports|reported|needs|cant|can't|cannot|is|was|has|had|ph|mob|cb|callback|phone|ssn|mrn|member|acct)(?![\w]))")
_TYPED_CUES = frozenset({"caller", "spoke w", "spoke with", "spoke to", "customer", "cust", "member", "mbr", "patient",
                         "pt", "employee", "ee", "my name is", "wife", "husband", "user"})
_TYPED_SPEAKER = re.compile(r"[ \t]{0,8}([a-z][a-z'\-]{1,20})[ \t]{1,3}")
_TYPED_STOP = frozenset("""
the a an is was has had back again says said asked wants from about re and also now still just not can cant on in at
to for with her his their my your our me him them us you who what when then there here this that it if so but or no
yes ok hi hey pls please thanks today yesterday tomorrow morning night update note notes fyi lunch standup meeting
""".split())  # noqa: SIM905


def _typed_word(word: str) -> bool:
    return word not in _TYPED_STOP and word not in _NOT_NAMES


def _typed_name(text: str, end: int) -> Finding | None:
    """A lower-case name of two words right after a cue word, before a word that follows a person in notes."""
    if not (m := _TYPED_NAME.match(text, end)):
        return None
    words = m.group(1).split()
    if not all(_typed_word(w) for w in words):
        return None
    return Finding(m.start(1), m.end(1), E.PERSON, m.group(1))


# A form's line whose whole value is a full name: "Scribe: Nomvula Sithole", "Colaborador: João Pedro Albuquerque",
# "Pharmacist in charge: Chiamaka Eze, PharmD", "On call now: Tomasz Wiśniewski (Mon 08:00–20:00)"; the label says
# what the value is, so labels of things are left out ("Application: Epic Hyperspace", "Hotel: Marina Bay Sands")
# (each ": " before a capital is found first; the label is the line's start before it, the name matched after it)
_LABEL = re.compile(r"[ \t]{0,8}[A-Za-z][A-Za-z /\-]{1,30}")
_LABEL_VALUE = re.compile(rf"({_NAME2})(?:,[ ][^\n,]{{1,30}}|[ ]\([^\n()]{{1,60}}\))?[ \t.]*(?=\r?\n|\Z)")
_THING_LABELS = frozenset("""
application app apps product products service services system systems tool tools platform hotel hotels plan plans
team teams site sites vendor vendors supplier company companies organisation organization org environment env model
location department dept project subject title summary category queue group role source tags tag policy office
building branch region country city state address street brand make cause reason workaround resolution note notes
description detection trip flight airline insurer payer carrier bank practice program programme module component
priority status impact urgency type version release change problem incident issue monitor host server device asset
interface integration contract scope channel ci item hardware software network database cluster node account
escalation severity sla ticket case request task job schedule calendar event meeting venue room floor desk kb article
""".split())  # noqa: SIM905
# "– Nikolai Vasiliev" closing a note, after its last sentence
_DASH_SIGN = re.compile(rf"[.!)][ ]{{1,2}}[–—-][ ]({_NAME2})(?:,[ ][^\n,]{{1,30}})?[ \t]*(?=\r?\n|\Z)")
# a full name before its login in brackets: "Mehmet Aydın (maydin)"; the login spelled from the name
_LOGIN_IN_BRACKETS = re.compile(r"[ ]\(([a-z][a-z0-9._\-]{2,30})\)")
# a full name before "'s" and what a person has: "Kofi Mensah's account", "from Oksana Petrenko's profile"
_OWNED = frozenset("""
account accounts profile laptop desk phone mobile mailbox manager leave password access login record records chart
payslip salary details email address request manager's onedrive drive files folder calendar badge card team
result results prescription appointment scan referral file claim case order
""".split())  # noqa: SIM905
_NAME_AT_END = re.compile(rf"(?<![\w'’\-])({_NAME2})\Z")
# one person joined to another found in full: "Joy Adebanjo, Tomasz Wiśniewski, Fatima Zahra El Amrani",
# "Sipho Dlamini and Liang Qiu"
_JOINS = (", ", " and ", " & ")
_JOINED_AFTER = re.compile(rf"(?:,[ ](?:and[ ])?|[ ](?:and|&)[ ])({_NAME2})(?![\w'’\-])")
_JOINED_WORD = re.compile(rf"{_WORD}|{_PARTICLE}")


def _named_by_place(text: str) -> list[Finding]:
    """Full names a form's label line, a closing dash, a login in brackets or a possession places."""
    found: list[Finding] = []
    at = text.find(": ")
    while at > 0:
        line = text.rfind("\n", max(0, at - 40), at) + 1
        if text[at + 2:at + 3].isupper() and (line or at < 40) and (
                label := text[line:at].rsplit(None, 1)[-1].casefold()) not in _THING_LABELS and (
                label not in _NOT_NAMES) and _LABEL.fullmatch(text, line, at) and (
                m := _LABEL_VALUE.match(text, at + 2)) and (
                f := _name_finding(text, *m.span(1))):  # (a cue word's label was read in the cue words' pass)
            found.append(f)
        at = text.find(": ", at + 2)
    for dash in (" – ", " - ", " — "):
        at = text.find(dash)
        while at > 0:
            if text[at - 1] in ".!)" and (sign := _DASH_SIGN.match(text, at - 1)) and (
                    f := _name_finding(text, *sign.span(1))):
                found.append(f)
            at = text.find(dash, at + 3)
    if " (" in text:
        for m in _LOGIN_IN_BRACKETS.finditer(text):
            if (name := _NAME_AT_END.search(text, max(0, m.start() - 60), m.start())) and spelled_from(
                    m.group(1), name.group(1)) and (f := _name_finding(text, *_without_labels(text, *name.span(1)))):
                found += [f, Finding(m.start(1), m.end(1), E.USERNAME, m.group(1))]
    for mark in ("'s ", "’s "):
        at = text.find(mark)
        while at > 0:
            after = [w.rstrip(".,;:").casefold() for w in text[at + 3:at + 36].split(" ", 2)[:2]]  # ("lab results")
            if not _OWNED.isdisjoint(after) and (name := _NAME_AT_END.search(text, max(0, at - 60), at)) and (
                    f := _name_finding(text, *_without_verb(text, *name.span(1)))):
                found.append(f)
            at = text.find(mark, at + 3)
    return found


def _without_labels(text: str, start: int, end: int) -> tuple[int, int]:
    """A name's span without leading words that are no name ("User Mehmet Aydın")."""
    while (space := text.find(" ", start, end)) > 0 and text[start:space].casefold() in _NOT_NAMES and (
            " " in text[space + 1:end]):
        start = space + 1
    return start, end


def _without_verb(text: str, start: int, end: int) -> tuple[int, int]:
    """A name's span without a capitalised verb opening the sentence before it ("Restored Aiko Fujimori's …")."""
    space = text.find(" ", start, end)
    if space > 0 and text[space + 1:end].count(" ") >= 1 and text[start:space].endswith(("ed", "ing")):
        return space + 1, end
    return start, end


def _name_before(text: str, start: int) -> tuple[int, int] | None:
    """The full name (two to four capitalised words) before the ", " / " and " / " & " that ends at `start`, read
    word by word backwards (a pattern searched over the stretch would be tried at each of its positions)."""
    joiner = 2 if text[start - 2] == "," else 5 if text[start - 5:start] == " and " else 3
    end = start - joiner
    words: list[int] = []
    at = end
    while len(words) < 4:
        space = text.rfind(" ", max(0, at - 32), at)
        begin = space + 1
        if not _JOINED_WORD.fullmatch(text, begin, at) or (begin and text[begin - 1] not in " "):
            break
        words.append(begin)
        if space < 0:
            break
        at = space
    if len(words) < 2 or not text[words[-1]].isupper():
        return None
    return words[-1], end


def joined(text: str, found: list[Finding]) -> list[Finding]:
    """People joined to a full name found (by any means) with "and", "&" or a comma, before or after it (after its
    role in brackets too: "Mason Adeyemi (MIM), Kenji Hoshino (identity), Greta Lindqvist")."""
    out: list[Finding] = []
    todo = [f for f in found if f.entity == E.PERSON and " " in f.key and (text.startswith(_JOINS, _after_role(
        text, f.end)) or text[max(0, f.start - 5):f.start].endswith(_JOINS))]
    if not todo:
        return out
    seen = {(f.start, f.end) for f in todo}
    while todo and len(out) < 32:
        f = todo.pop()
        hits = []
        if text.startswith(_JOINS, end := _after_role(text, f.end)) and (m := _JOINED_AFTER.match(text, end)):
            hits.append(m.span(1))
        if text[max(0, f.start - 5):f.start].endswith(_JOINS) and (span := _name_before(text, f.start)):
            hits.append(span)
        for span in hits:
            if span not in seen and not _NUMBER_AFTER.match(text, span[1]) and (g := _name_finding(text, *span)):
                seen.add(span)
                out.append(g)
                todo.append(g)
    return out


def _after_role(text: str, end: int) -> int:
    """Past a short role in brackets right after a name ("… (vendor TAM)"), else `end`."""
    if text.startswith(" (", end) and (close := text.find(")", end + 2, end + 32)) > 0 and "\n" not in text[end:close]:
        return close + 1
    return end


def _subject(text: str, verb: int) -> Finding | None:
    """A full name right before the space before a verb only people do, not inside a longer capitalised run."""
    if not verb or not text[verb - 1].isalpha() or not (m := _NAME_ENDS.search(text, max(0, verb - 60), verb)):
        return None
    before = text[:m.start(1)].rstrip(" ")
    word_start = len(before)
    while word_start > 0 and (before[word_start - 1].isalpha() or before[word_start - 1] in "'’-"):
        word_start -= 1
    if word_start < len(before) and before[word_start].isupper():
        return None  # "… Red Hat Support confirmed": part of a longer capitalised run
    return _name_finding(text, *m.span(1))


# Values that belong to one person, and how a name stands right before one: "Bartholomew Quist (+61 2 9374 4000)",
# "(Rafael Quintero, DOB 1961-02-28)", "Leonie Hartmann, l.hartmann@…" (a bracket or comma, then perhaps the value's
# word); two words or more
_OWN_VALUES = frozenset({E.PHONE, E.EMAIL, E.DATE_OF_BIRTH, E.MRN, E.US_SSN, E.US_PASSPORT, E.US_DRIVER_LICENSE,
                         E.IBAN, E.BANK_ACCOUNT, E.UK_NHS, E.NATIONAL_ID, E.US_NPI, E.STREET_ADDRESS})
# the bracket or comma, then perhaps the value's word ("DOB", "tel.") before the value
_BESIDE_GAP = re.compile(r"[ ]{0,2}(?:[A-Za-z][A-Za-z.#'’ ]{0,18}[:.]?[ ]{1,2})?")
# a name ("TREMBLAY, Mélanie" too), perhaps its place or role in brackets ("Omar Farouk (Cairo) - national ID …",
# "Ravi Iyer (Sydney): TFN …")
_NAME_ENDS = re.compile(
    rf"(?<![\w'’\-])({_NAME2}|[A-Z][A-Z'’\-]{{1,30}},[ ]{_WORD})(?:[ ]\([^()\n]{{1,30}}\):?)?[ ]{{0,2}}$")
# a value's word in capitals, alone between a name and its value
_VALUE_WORD = re.compile(
    r"[ ](?:DOB|D\.O\.B\.|SSN|NHS|MRN|NIK|TCKN|CPF|RUT|DNI|CURP|NIN|NIF|BSN|PESEL|CNP|NI)[:#]?[ ]{1,2}\Z")
_LEADING_WORDS = frozenset({"also", "then", "now", "just", "only", "maybe", "perhaps", "however", "finally"})
_COLUMN_GAP = re.compile(r"[ ]{2,}|\t")  # columns of a fixed-width list: the name, then the value's word and value


def logins_beside(text: str, found: list[Finding]) -> list[Finding]:
    """A login in brackets right after its person's name, spelled from it: "Noa Ben-Ami (nbenami)"."""
    out = []
    for f in found:
        if f.entity == E.PERSON and text.startswith(" (", f.end) and (m := _BRACKETED_LOGIN.match(text, f.end)) and (
                spelled_from(m.group(1), text[f.start:f.end])):
            out.append(Finding(m.start(1), m.end(1), E.USERNAME, m.group(1).casefold()))
    return out


_BRACKETED_LOGIN = re.compile(r"[ ]\(([a-z][a-z0-9._\-]{2,30})[),]")


def people_beside(text: str, found: list[Finding]) -> list[Finding]:
    """Names standing right before a person's phone, e-mail, date of birth or record number (found by the scanner),
    after a bracket, a comma, "at" or "on"; a leading word that is no name is left out ("Contact Leonie Hartmann,
    …")."""
    out = []
    for f in found:
        if f.entity not in _OWN_VALUES:
            continue
        mark = max(text.rfind("(", max(0, f.start - 24), f.start), text.rfind(",", max(0, f.start - 24), f.start))
        if (dash := max(text.rfind(" – ", max(0, f.start - 24), f.start), text.rfind(" - ", max(0, f.start - 24),
                                                                                      f.start))) > mark:
            mark = dash + 1  # "1. Yaw Boakye – passport 567341982"
        if text[max(0, f.start - 4):f.start] in (" at ", " on ") and (  # "call-back to Dennis Kowalski at (414) …"
                text[text.rfind(" ", 0, f.start - 4) + 1].isupper()):  # (a capitalised word before: "back on" is none)
            mark = f.start - 4
        if (closed := text.rfind("):", max(0, f.start - 24), f.start)) > mark:
            mark = closed + 1  # "Ravi Iyer (Sydney): TFN …"
        after = mark + 1  # where the value's word may start
        window = max(0, mark + 1, f.start - 24)
        if "  " in text[window:f.start] or "\t" in text[window:f.start]:  # "Olivia Chen   NHS 475…"
            for column in _COLUMN_GAP.finditer(text, window, f.start):
                mark, after = column.start(), column.end()
        # else the value's word alone between them: "Jaylen Okafor DOB 04/11/2014", "Elif Yıldırım TCKN 829…"
        if (mark <= 0 or not _BESIDE_GAP.fullmatch(text, after, f.start) or not (
                m := _NAME_ENDS.search(text, max(0, mark - 48), mark))) and not (
                (label := _VALUE_WORD.search(text, max(0, f.start - 12), f.start)) and (
                    m := _NAME_ENDS.search(text, max(0, label.start() - 48), label.start()))):
            continue
        start, end = m.span(1)
        while (space := text.find(" ", start, end)) > 0 and (
                (word := text[start:space].casefold()) in _NOT_NAMES or word in _LEADING_WORDS) and (
                " " in text[space + 1:end].strip()):
            start = space + 1
        if name := _name_finding(text, start, end):
            out.append(name)
    return out


def _label_words() -> dict[str, tuple[int, bool | str | None]]:
    words: dict[str, tuple[int, bool | str | None]] = {}
    for strong, labels in ((True, _LABEL_WORDS), (False, _PROSE_LABELS)):
        for label in labels:
            words[label] = (len(label), strong)
    for verb in _ADMIN_VERBS:
        words[verb] = (len(verb), None)
    for key in _STATED_KEYS:
        words[key] = (len(key), _STATED_MARK)
    for literal in _SHAPE_LITERALS:  # (lower-cased: the pass runs over the lower-cased text)
        words[literal.lower()] = (len(literal), literal)
    return words


_LABELS = FIXED.add(_label_words())


def logins(text: str) -> list[Finding]:
    """Logins after a label ("user: jdoe", "AD account a.smith"), as DOMAIN\\login, in the answer to a question
    about a login, and first.last near a word about access; a plain word after "user " only before an account's
    state ("user dfox locked out")."""
    found: list[Finding] = []
    lowered, exact = lower_case(text)
    n = len(text)
    for last, (length, strong) in (FIXED.hits(lowered, _LABELS) if exact else ()):
        start, end = last + 1 - length, last + 1
        if strong is _STATED_MARK:  # "id is ", "login was " …: the owner then matched before, the login after
            if (f := _stated_login(text, start, end)) is not None:
                found.append(f)
            continue
        if isinstance(strong, str):  # a log format's literal: "sudo: X : TTY=", "/home/X", "X#EXT#", "ssh X@host"
            if (f := _login_at_literal(text, start, strong)) is not None:
                found.append(f)
            continue
        if end >= n or text[end] not in " \t=:":  # a login follows its label so (most hits are inside words)
            continue
        if start and (lowered[start - 1].isalnum() or lowered[start - 1] in "_/"):
            continue  # "user" inside "superuser", "/login" in a URL
        if strong is None:  # an administrator's verb
            if (m := _ADMIN_TARGET.match(text, end) or _ADMIN_TO_GROUP.match(text, end)) and (
                    value := m.group(1)) not in _NOT_LOGINS and value not in _NOT_NAMES:
                found.append(Finding(m.start(1), m.end(1), E.USERNAME, value))
            elif (m := _ADMIN_ACCESS.match(text, end)) or (
                    lowered[start:end] in ("reset", "unlock", "unlocked") and (m := _ACTED_FOR.match(text, end))):
                for login in _ACCESS_LOGIN.finditer(text, m.start(1), m.end(1)):
                    if (value := login.group()) not in _NOT_LOGINS and value not in _NOT_NAMES and value != "and" and (
                            value.rsplit(".", 1)[-1] not in _DOTTED_TAILS):  # (a file: "reset for config.yaml")
                        found.append(Finding(login.start(), login.end(), E.USERNAME, value))
            continue
        if not (m := _LOGIN_VALUE.match(text, end)):
            continue
        gap, value = m.group(1), m.group(3)
        folded = value.casefold()
        if folded in _NOT_NAMES or folded in _AFTER_USER:  # "login name?", "user is", "AD account access"
            continue
        labelled = strong or "=" in gap or ":" in gap or '"' in gap or "'" in gap
        stated = value.islower() and len(value) >= 3 and (_ACCOUNT_STATE.match(text, m.end()) is not None
                                                          or _PERSON_ACTS.match(text, m.end()) is not None
                                                          or _FROM_ADDRESS.match(text, m.end()) is not None
                                                          or _PAM_UID.match(text, m.end()) is not None)
        if _LOGIN_SHAPE.search(value) or (labelled and value.islower() and len(value) >= 3) or stated:
            found.append(Finding(m.start(2) if m.group(2) else m.start(3), m.end(3), E.USERNAME, folded))
    if "\\" in text and _DOMAIN_HINT.search(text):  # (the pattern's look-behind is tried at every position)
        for m in _DOMAIN_LOGIN.finditer(text):
            if m.group(1) not in _NOT_DOMAINS and m.group(2).casefold() not in _NOT_NAMES:
                found.append(Finding(m.start(), m.end(), E.USERNAME, m.group().lower()))
    if "?" in text:
        for q in _LOGIN_QUESTION.finditer(text):
            if ((a := _ANSWER_LINE.match(text, q.end())) or (a := _LOGIN_ANSWER.search(text, q.end(), q.end() + 160))
                    ) and a.group(1) not in _NOT_NAMES:
                found.append(Finding(a.start(1), a.end(1), E.USERNAME, a.group(1)))
    found += _logins_by_shape(text)
    if "users: " in lowered or "accounts: " in lowered:
        for m in _LOGIN_LIST.finditer(text):
            for login in _ACCESS_LOGIN.finditer(text, m.start(1), m.end(1)):
                if (value := login.group()) not in _NOT_LOGINS and value not in _NOT_NAMES and value != "and":
                    found.append(Finding(login.start(), login.end(), E.USERNAME, value))
    if " to " in text and "grant" in lowered:
        for m in _GROUP_TO_LOGIN.finditer(text):
            if m.group(1) not in _NOT_LOGINS and m.group(1) not in _NOT_NAMES:
                found.append(Finding(m.start(1), m.end(1), E.USERNAME, m.group(1)))
    if "-ad" in lowered and _POWERSHELL_HINT.search(text):
        for m in _POWERSHELL_LOGINS.finditer(text):
            for login in _ACCESS_LOGIN.finditer(text, m.start(1), m.end(1)):
                if (value := login.group()) not in _NOT_LOGINS and value not in _NOT_NAMES:
                    found.append(Finding(login.start(), login.end(), E.USERNAME, value))
    if " - " in text and " [" in text:
        for m in _ACCESS_LOG_USER.finditer("\n" + text):
            found.append(Finding(m.start(1) - 1, m.end(1) - 1, E.USERNAME, m.group(1).casefold()))
    for m in _DOTTED_TAIL.finditer(text):  # the dot first (rarer than letters), then the head behind it
        head_start = m.start()
        while head_start > 0 and m.start() - head_start < 31 and text[head_start - 1] in _HEAD_CHARS:
            head_start -= 1
        if head_start == m.start() or not text[head_start].isalpha() or (
                head_start and (text[head_start - 1].isalnum() or text[head_start - 1] in "_./@\\-")):
            continue
        head, tail = text[head_start:m.start()], m.group(1)
        if tail in _DOTTED_TAILS or tail in _NOT_NAMES or head in _DOTTED_HEADS:  # ("april.iyer" is one)
            continue
        if _ACCESS_CUES.search(text, max(0, head_start - 40), head_start):
            found.append(Finding(head_start, m.end(), E.USERNAME, text[head_start:m.end()]))
    return found


def _stated_login(text: str, start: int, end: int) -> Finding | None:
    """The login a person states: "my id is viyer" (the noun and verb at start:end, "id is ")."""
    if _STATED_OWNER.search(text, max(0, start - 40), text.index(" ", start)) and (
            m := _STATED_VALUE.match(text, end - 1)) and (value := m.group(1)) not in _NOT_STATED and (
            value not in _NOT_NAMES and value not in _AFTER_USER and value not in _NOT_LOGINS):
        return Finding(m.start(1), m.end(1), E.USERNAME, value)
    return None


def _logins_by_shape(text: str) -> list[Finding]:
    """Logins where log and chat formats put them: chat speakers and @mentions, sudo's "X : TTY=", home folders,
    Entra guest accounts ("…#EXT#"). Each is found from a literal first."""
    found: list[Finding] = []

    def add(start: int, end: int) -> None:
        found.append(Finding(start, end, E.USERNAME, text[start:end].casefold()))

    if "]" in text:
        for m in _LOGIN_SPEAKER.finditer("\n" + text):
            add(m.start(1) - 1, m.end(1) - 1)
        for m in _JIRA_MENTION.finditer(text):
            add(*m.span(1))
    for mention in _MENTION.finditer(text):
        before = text[mention.start() - 1] if mention.start() else " "
        # (after "]" an address: "dependabot[bot]@users.noreply.github.com")
        if not (before.isalnum() or before in "._-+@]") and mention.group(1) not in _NOT_MENTIONS:
            add(*mention.span(1))
    return found


def _login_at_literal(text: str, at: int, literal: str) -> Finding | None:
    """The login beside a log format's literal found at `at`: before sudo's " : TTY=" and before "#EXT#" (kept in
    the span), after "/home/", "\\Users\\", "/Users/" and "ssh "."""
    if literal == " : TTY=":
        hit, span = _SUDO_LOGIN.search(text, max(0, at - 32), at), 1
    elif literal == "#EXT#":
        hit, span = _GUEST_HEAD.search(text, max(0, at - 80), at), 0
    elif literal == "/Users/" and not text.startswith(literal, at):
        return None
    else:
        pattern = _SSH_LOGIN if literal == "ssh " else _ONEDRIVE_LOGIN if literal == "/personal/" else _HOME_LOGIN
        hit, span = pattern.match(text, at + len(literal)), 1
    if hit is None or hit.group(span).casefold() in _NOT_HOMES:
        return None
    end = at + len(literal) if literal == "#EXT#" else hit.end(span)
    return Finding(hit.start(span), end, E.USERNAME, text[hit.start(span):end].casefold())


def _street_words() -> dict[str, tuple[int, bool | None, bool | None]]:
    """Street words → (length, as a street type after the name: None, alone or glued (True), in European order:
    None, glued to the name (True) or leading it (False))."""
    kinds: dict[str, list[bool | None]] = {}
    for suffix in _SUFFIX.split("|"):
        kinds.setdefault(suffix, [None, None])[0] = False
    for suffix in _GLUED:  # "Kingsway", "Northgate"
        kinds.setdefault(suffix, [None, None])[0] = True
    for word in _EU_GLUED:
        kinds.setdefault(word, [None, None])[1] = True
    for word in _EU_LEADING:
        kinds.setdefault(word, [None, None])[1] = False
    return {word: (len(word), us, eu) for word, (us, eu) in kinds.items()}


_STREETS = FIXED.add(_street_words())
_HOUSE_NUMBER = re.compile(r"[0-9][A-Za-z]?,?[ ]")


def addresses(text: str) -> list[Finding]:
    """Street addresses: house number, street name and type, then unit, city, state and postcode when present.
    The street types are found first (one Aho-Corasick pass); the address pattern runs only just before them."""
    lowered, exact = lower_case(text)
    if not exact:
        lowered = text  # (a few characters lower-case to two: then only capitalised street types are seen)
    found: list[Finding] = []
    done = 0
    n = len(lowered)
    european: list[tuple[int, int, bool]] = []
    for last, (length, glued, eu) in FIXED.hits(lowered, _STREETS):
        first = last + 1 - length
        if eu is not None:
            european.append((last, length, eu))
        if glued is None or last < done or (first and lowered[first - 1].isalpha() and not glued) or (
                last + 1 < n and lowered[last + 1].isalpha()):
            continue  # "st" in "first", "way" in "ways"
        start = max(done, last - 140)
        if not _HOUSE_NUMBER.search(text, start, first):
            continue
        pattern = _ADDRESS_CAPS if text[first:last + 1].isupper() and text[first - 1:first] != "." else _ADDRESS
        stop = min(len(text), last + 120)
        typed = text[first - 2:last + 1].islower() and text[first - 1] == " " and _TYPED_ZIP.search(
            text, last, last + 60) and next(
            (m for m in _ADDRESS_LOWER.finditer(text, start, stop) if m.start() <= last < m.end()), None)
        for m in ([typed] if typed else pattern.finditer(text, start, stop)):
            if m.start() <= last < m.end():
                begin = m.start()
                if unit := _UNIT_BEFORE.search(text, max(0, begin - 24), begin):
                    begin = unit.start()
                value = " ".join(text[begin:m.end()].split()).casefold()
                found.append(Finding(begin, m.end(), E.STREET_ADDRESS, value))
                done = m.end()
                break
    if "rua " in lowered or "avenida " in lowered or "alameda " in lowered or "av. " in lowered:
        found += [Finding(m.start(), m.end(), E.STREET_ADDRESS, " ".join(m.group().split()).casefold())
                  for m in _BR_ADDRESS.finditer(text)]
    if "〒" in text:
        found += [Finding(m.start(), len(m.group().rstrip()) + m.start(), E.STREET_ADDRESS, m.group().strip())
                  for m in _JP_ADDRESS.finditer(text)]
    if "box " in lowered:
        found += [Finding(m.start(), m.end(), E.STREET_ADDRESS, " ".join(m.group().split()).casefold())
                  for m in _PO_BOX.finditer(text)]
    done = 0  # (an EU match may lengthen one of the above: "14 Rue" → "14 Rue des Lilas, 75011 Paris")
    for last, length, glued in european:
        first = last + 1 - length
        if last < done or (last + 1 < n and lowered[last + 1].isalpha() and lowered[last] != "."):
            continue
        if glued:  # the street's word: letters before the type ("Storgatan"), maybe a capitalised word before it
            while first > 0 and lowered[first - 1].isalpha():
                first -= 1
        elif first and lowered[first - 1].isalpha():
            continue
        if not text[first].isupper() and lowered[last] != "." and (  # "14 rue des Lilas": French writes it so
                glued or not text[first - 2:first - 1].isalnum() or not _EU_NUMBER_BEFORE.search(
                    text, max(0, first - 12), first)):
            continue
        if not glued and (number := _EU_NUMBER_BEFORE.search(text, max(0, first - 12), first)) and (
                tail := _EU_NAME_TAIL.match(text, last + 1)):
            found.append(Finding(number.start(), tail.end(), E.STREET_ADDRESS,
                                 " ".join(text[number.start():tail.end()].split()).casefold()))
            done = tail.end()
            continue
        if (tail := _EU_TAIL.match(text, last + 1)) is None:
            continue
        if (before := _WORD_BEFORE.search(text, max(0, first - 32), first)) and (
                before.group(1).casefold() not in _NOT_NAMES):
            first = before.start(1)
        found.append(Finding(first, tail.end(), E.STREET_ADDRESS, " ".join(text[first:tail.end()].split()).casefold()))
        done = tail.end()
    if exact:
        found += _labelled_addresses(text, lowered)
    return found


# A line's value after an address's label, in any of the languages tickets are written in: "Nouvelle adresse : 4520,
# rue Saint-Denis…", "Domicilio: Calle Ámsterdam 255…", "homePostalAddress: Apt 9…", "주소: 서울특별시 …"; not a
# network's or a mailbox's address ("IP address:", "MAC address:", "E-mail address:"), nor a value without a digit.
# The labels' stems are found with str.find; the rest of the label, its colon and the value matched after them.
_ADDRESS_LABEL_STEMS = ("addr", "adres", "domicil", "residenz", "indirizz", "endere", "morada", "anschrift", "direcci",
                        "osoite", "주소", "住所")
_AFTER_ADDRESS_STEM = re.compile(r"(?:ess|se|e|io|a|o|ço|co|ón|on)?[ \t]*[:：][ \t]*([^\n]{8,140})")
_LABEL_KIND = re.compile(r"(?<![\w\-])([A-Za-z\-]{2,24})[ ]?\Z")  # the word before: "IP address", "ipAddress"
_NOT_PLACES = frozenset({"ip", "ipv4", "ipv6", "mac", "email", "e-mail", "mail", "web", "server", "remote", "source",
                         "destination", "bind", "listen", "proxy", "gateway", "wallet", "memory", "base", "return",
                         "hardware", "physical", "network", "local", "public", "private", "virtual", "sender",
                         "reply-to", "from", "to", "billing", "invoice", "office", "company", "site", "delivery",
                         "shipping", "ship-to", "warehouse", "vendor", "supplier", "bitcoin"})
# where an address's line goes on with other things: a sentence after a word of 4 letters or a number ("Paris.",
# "560038."; not "Co. Dublin", "app. 6"), ";", "|", a tab
_ADDRESS_LINE_END = re.compile(r"(?:(?<=[^\W\d_]{4})|(?<=[0-9]))\.[ ]+(?=[^\W\d_])|[;|\t]")
_ADDRESS_AFTER_WORDS = re.compile(r"[ ](?:vs|versus|and|or|not|instead|was|is)[ ]")


def _labelled_addresses(text: str, lowered: str) -> list[Finding]:
    found = []
    for stem in _ADDRESS_LABEL_STEMS:
        at = lowered.find(stem)
        while at >= 0:
            m = _AFTER_ADDRESS_STEM.match(text, at + len(stem))
            # (inside a word: "ipaddress"; a camelCase key's part starts one: "homePostalAddress")
            if m and not (at and text[at - 1].isalpha() and text[at].islower()) and (
                    value := _address_value(text, at, m)):
                found.append(Finding(m.start(1), m.start(1) + len(value), E.STREET_ADDRESS,
                                     " ".join(value.split()).casefold()))
            at = lowered.find(stem, at + 1)
    return found


def _address_value(text: str, label: int, m: re.Match[str]) -> str | None:
    """The address a label's line holds, cut where the line goes on with other things; None if it holds none."""
    kind = _LABEL_KIND.search(text, max(0, label - 25), label)
    value = m.group(1)
    if end := _ADDRESS_LINE_END.search(value):  # the line goes on past the address: "… 75009 Paris. Tél. 06 …"
        value = value[:end.start()]
    if value.count(")") > value.count("("):  # "… OH 43017 vs the new one)": the address was inside brackets
        value = value[:value.index(")")]
        value = value[:end.start()] if (end := _ADDRESS_AFTER_WORDS.search(value)) else value
    value = value.rstrip(" \t.;,")
    if (kind.group(1).casefold() if kind else "") in _NOT_PLACES or not any(c.isdigit() for c in value) or (
            "@" in value or "://" in value or _DOTTED.search(value)):
        return None
    return value


_DOTTED = re.compile(r"[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}|[0-9a-fA-F]{2}[:\-][0-9a-fA-F]{2}[:\-][0-9a-fA-F]{2}")


def address_lines_after(text: str, found: list[Finding]) -> list[Finding]:
    """The line under a street address that holds the rest of it: a town with a state and ZIP or a postcode
    ("4471 Larkspur Ct Apt 2B⏎   Aurora, CO 80016", "Ty Gwyn, 5 Heol y Felin⏎Llandeilo SA19 6RN", "80420-000
    Curitiba - PR")."""
    out = []
    for f in found:
        if f.entity != E.STREET_ADDRESS:
            continue
        eol = text.find("\n", f.end)
        if eol < 0 or text[f.end:eol].strip(" \t\r,") or not (m := _TOWN_LINE.match(text, eol + 1)):
            continue
        out.append(Finding(m.start(1), m.end(1), E.STREET_ADDRESS, " ".join(m.group(1).split()).casefold()))
    return out


_TOWN = r"[A-Z][A-Za-zÀ-ÿ'’.\-]{1,30}(?:[ ][A-Za-zÀ-ÿ'’.\-]{2,30}){0,3}"
_TOWN_LINE = re.compile(
    rf"[ \t]{{0,16}}({_TOWN},?[ ]{{1,2}}[A-Z]{{2}}[ ]{{1,2}}[0-9]{{5}}(?:-[0-9]{{4}})?"  # Aurora, CO 80016
    rf"|{_TOWN},?[ ]{{1,2}}[A-Z]{{1,2}}[0-9][A-Z0-9]?[ ][0-9][A-Z]{{2}}"  # Llandeilo SA19 6RN
    rf"|[0-9]{{4,5}}(?:-[0-9]{{3,4}})?[ ]{_TOWN}(?:[ ]-[ ][A-Z]{{2}})?)"  # 80420-000 Curitiba - PR, 10115 Berlin
    r"[ \t.,]*(?=\r?\n|$)")


# An organisation's own address is no one's personal data: the address right after the organisation's name
# ("Westdale Pharmacy #112, 2040 King St W, …", "Example Nigeria Ltd, 12 Adeola Odeku Street") or after a label
# for a place of business ("Office address for the courier label is …", "Practice: …", "Remit address: …").
_ORGANISATION_WORD_LIST = """
ltd limited inc llc llp plc gmbh ag bv nv pty pvt corp corporation company co group holdings pharmacy chemist clinic
dental dentistry surgery practice hospital infirmary medical health healthcare centre center care home hospice
university college school academy library depot warehouse catering imaging laboratory laboratories lab labs
hotel offices studio studios campus headquarters hq plaza mall store shop restaurant veterinary vets council services
solutions technologies systems partners associates consulting logistics transport airport institute foundation
ministry department agency authority office
"""
_ORGANISATION_WORDS = frozenset(_ORGANISATION_WORD_LIST.split())
_BUSINESS_LABELS = ("office address", "office for", "office:", "site:", "practice:", "facility:", "hospital:",
                    "clinic:", "pharmacy:", "registered office", "head office", "remit address", "remit to", "depot:",
                    "warehouse:", "branch:", "store:", "venue:", "campus:", "vendor address", "supplier address")
_NAMED_BEFORE = re.compile(r"([A-Z][\w&'’.\-]*(?:[ ](?:&|of|de|the|[A-Z#0-9][\w&'’.\-]*)){0,6}),?[ ]{1,2}\Z")


def organisations_address(text: str, start: int) -> bool:
    """Whether the address at `start` is an organisation's: after its name or a place of business's label."""
    line = text.rfind("\n", 0, start) + 1
    before = text[max(line, start - 90):start]
    lowered = before.lower()
    if any(label in lowered for label in _BUSINESS_LABELS) and not any(
            word in lowered for word in ("home", "personal", "my ", "his ", "her ")):
        return True
    named = _NAMED_BEFORE.search(before)  # (a word of the name: "Heath Lane Veterinary Surgery", "Acme Ltd")
    return named is not None and any(word.strip(".,").lower() in _ORGANISATION_WORDS for word in named.group(1).split())

