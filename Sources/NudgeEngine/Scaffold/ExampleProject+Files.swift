// Generated from the repository's nudge.yaml, Workflows/ and Templates/. Do not edit:
// run `NUDGE_UPDATE_EXAMPLES=1 swift test --filter ExampleProject` to regenerate.

extension ExampleProject {
    /// (path relative to the project, contents)
    public static let files: [(String, String)] = [
        (
            "nudge.yaml",
            ##"""
            # Nudge project settings. Copy this file (with Workflows/ and Templates/) to start your own.
            # Relative paths below are relative to the folder holding this file.

            # Who is sending. Templates can show these as {{business.name}} and {{business.timezone}}.
            business:
              name: Bean There Café
              timezone: America/New_York      # IANA; the default for customers without one

            # Where customer state, the ledger and the outbox live (override with --db PATH).
            database: nudge.sqlite

            # Date-based triggers (birthday, inactivity) send at this hour, in each customer's
            # own time zone. A workflow can override it with its own send_at.
            send_at: "09:00"                  # local time of day at which date-based triggers fall due

            # Where `nudge serve` can be reached from outside: email unsubscribe links and SMS status
            # callbacks point there. Before sending real email, uncomment unsubscribe_secret_env and put
            # a long random secret in that variable: it signs the links, and serve honours only signed ones
            # (until then links are unsigned, and `nudge check` warns once a real email provider is set).
            serve:
              public_url: https://nudge.beanthere.example
              # unsubscribe_secret_env: NUDGE_UNSUBSCRIBE_SECRET

            # Which adapter delivers each channel. `file` appends one JSON line per message,
            # handy for trying things out. In production switch to a provider, for example:
            #   email: { provider: sendgrid, api_key_env: SENDGRID_API_KEY, from: hello@beanthere.example }
            #   email: { provider: mailgun, api_key_env: MAILGUN_API_KEY, domain: mg.beanthere.example, from: hello@mg.beanthere.example }
            #   email: { provider: smtp, host: smtp.example.com, port: 587, username: hello@beanthere.example,
            #            password_env: SMTP_PASSWORD, from: hello@beanthere.example }
            #   sms:   { provider: twilio, account_sid: AC..., auth_token_env: TWILIO_AUTH_TOKEN, from: "+15551234567" }
            #   sms:   { provider: sns, region: us-east-1, access_key_id_env: AWS_ACCESS_KEY_ID,
            #            secret_access_key_env: AWS_SECRET_ACCESS_KEY }
            #   push:  { provider: webhook, url: https://..., secret_env: PUSH_WEBHOOK_SECRET }
            #   push:                         # one provider per platform, chosen by the customer's push_platform
            #     android: { provider: fcm, project_id: bean-there-app, credentials_env: FCM_CREDENTIALS }
            #     ios:     { provider: apns, team_id: ABCDE12345, key_id: XYZ987ABCD, key_env: APNS_KEY,
            #                topic: com.beanthere.app }
            #   wallet:                       # one provider per platform, chosen by the customer's wallet_platform
            #     google: { provider: google_wallet, issuer_id: "3388000000022195611", credentials_env: GOOGLE_WALLET_CREDENTIALS,
            #               class_id: stamp-card }
            #     apple:  { provider: apple_wallet, pass_type_id: pass.com.beanthere.loyalty, team_id: ABCDE12345,
            #               certificate_env: APPLE_PASS_CERTIFICATE, wwdr_certificate: AppleWWDRCAG4.pem, template: member,
            #               auth_secret_env: APPLE_PASS_SECRET }   # passes update through `nudge serve` at serve.public_url
            # Secrets are only ever read from the environment variables named by *_env settings.
            channels:                         # channel -> adapter; `file` is the embedded default
              email:  { provider: file, path: outbox/email.jsonl }
              sms:    { provider: file, path: outbox/sms.jsonl }
              push:   { provider: file, path: outbox/push.jsonl }
              wallet: { provider: file, path: outbox/wallet.jsonl }

            # Segments: named conditions on customers, for `nudge segments`, for conditions
            # ("regulars" in customer.segments) and for the `segment: { enter: NAME }` trigger.
            # Five are built in (high_value, frequent, at_risk, vip, new); add your own here, or
            # redefine a built-in one by its name.
            segments:
              regulars: { description: Weekly regulars, when: "customer.visits_30d >= 4" }

            # Policy for every marketing message of every workflow, after consent: at most two a week per
            # customer, one of them by SMS. A workflow with `category: transactional` (reward-ready) is
            # exempt; `priority` decides who goes first when messages compete for a cap, and `on_cap: defer`
            # reschedules instead of dropping. Uncomment quiet_hours to hold messages that would go out at
            # night (in the customer's own zone) until 08:00; a run then leaves them in the outbox, and
            # `run --every` sends them in the morning.
            policy:
              caps:
                - { max: 2, per: 7d }                 # marketing messages, all channels together
                - { channel: sms, max: 1, per: 7d }
              # quiet_hours: { from: "21:00", to: "08:00" }

            # What one message costs on each channel (an SMS: one segment), for `nudge forecast`.
            pricing: { email: 0.0008, sms: 0.0079, push: 0, wallet: 0 }
            """##
        ),
        (
            "Workflows/birthday-reminder.test.yaml",
            ##"""
            # birthday-reminder: eight days before the birthday, at the workflow's own send_at (10:00 in the
            # customer's zone), one heads-up email. Its occurrence is keyed by the year of the birthday, even
            # when the reminder falls in December. Staff are left out by `when`.
            customers:
              # Lisbon is on UTC+0 in November: 10:00 local is 10:00Z
              - { id: c1, name: Ana Silva, birth_date: 1990-11-20, timezone: Europe/Lisbon, signed_up_at: 2025-06-01,
                  email: ana@example.com, email_opt_in: true }
              # New York; birthday 3 January, so the reminder is due on 26 December
              - { id: c2, name: Ben Okafor, birth_date: 1988-01-03, signed_up_at: 2025-06-01,
                  email: ben@example.com, email_opt_in: true }
              - { id: c3, name: Cleo Park, birth_date: --01-03, signed_up_at: 2025-06-01, tags: [staff],
                  email: cleo@example.com, email_opt_in: true }
            tests:
              - name: eight days before the birthday at 10:00 local, one email
                steps:
                  - at: 2026-11-12T09:59:00Z        # 09:59 in Lisbon: the project's 09:00 does not apply here
                    expect: []
                  - at: 2026-11-12T10:00:00Z
                    expect:
                      - { workflow: birthday-reminder, customer: c1, channel: email, status: send, occurrence: "birthday:2026",
                          due: 2026-11-12T10:00:00Z, subject: "Something sweet is brewing for your birthday, Ana" }
                  - at: 2026-11-13T09:00:00Z
                    expect: []
              - name: a January birthday is announced in December, keyed by the birthday's year; staff are left out
                steps:
                  - at: 2026-12-26T15:00:00Z        # 10:00 EST
                    expect:
                      - { workflow: birthday-reminder, customer: c2, channel: email, status: send, occurrence: "birthday:2027",
                          due: 2026-12-26T15:00:00Z }
            """##
        ),
        (
            "Workflows/birthday-reminder.yaml",
            ##"""
            # Eight days ahead of the birthday, let the customer know a treat is coming (a day more than a
            # week, so that the heads-up and the treat do not share the weekly cap of nudge.yaml's policy).
            id: birthday-reminder
            name: Birthday week heads-up
            description: Eight days before the birthday, tell the customer a treat is on its way.
            trigger:
              birthday: { days_before: 8 }     # due on the local date eight days before the birthday
            when:
              - not ("staff" in customer.tags)
            actions:
              - send: { channel: email, template: birthday-reminder }
            send_at: "10:00"                   # overrides send_at of nudge.yaml for this workflow
            """##
        ),
        (
            "Workflows/birthday-treat.test.yaml",
            ##"""
            # birthday-treat: on the customer's local birthday at send_at (09:00 in their own zone), an email
            # plus a push (or an SMS when push is not possible), once a year. 29 February birthdays fall on
            # 28 February in other years, and staff never get one.
            customers:
              # Lisbon is on UTC+0 in November: 09:00 local is 09:00Z
              - { id: c1, name: Ana Silva, birth_date: 1990-11-20, timezone: Europe/Lisbon, signed_up_at: 2025-06-01,
                  email: ana@example.com, email_opt_in: true, push_opt_in: true, push_token: tok-ana }
              # no push token: the second message falls back to SMS (New York, the business's zone)
              - { id: c2, name: Ben Okafor, birth_date: 2000-02-29, signed_up_at: 2025-06-01,
                  email: ben@example.com, email_opt_in: true, phone: "+15555550102", sms_opt_in: true }
              - { id: c3, name: Cleo Park, birth_date: 1985-02-28, signed_up_at: 2025-06-01, tags: [staff],
                  email: cleo@example.com, email_opt_in: true, phone: "+15555550103", sms_opt_in: true }
            tests:
              - name: on the birthday at 09:00 local, an email and a push, once
                steps:
                  - at: 2026-11-20T08:59:00Z
                    expect: []
                  - at: 2026-11-20T09:00:00Z
                    expect:
                      - { workflow: birthday-treat, customer: c1, occurrence: "birthday:2026", due: 2026-11-20T09:00:00Z,
                          channel: email, status: send, subject: "Happy birthday, Ana! Your treat is on us" }
                      - { workflow: birthday-treat, customer: c1, occurrence: "birthday:2026", due: 2026-11-20T09:00:00Z,
                          channel: push, status: send, to: tok-ana, title: "Happy birthday, Ana!" }
                  - at: 2026-11-20T21:00:00Z
                    expect: []
              - name: 29 February birthdays fall on 28 February in other years, and staff get none
                steps:
                  # 09:00 EST is 14:00Z; Cleo (staff) has her birthday on this day too
                  - at: 2027-02-28T14:00:00Z
                    expect:
                      - { workflow: birthday-treat, customer: c2, occurrence: "birthday:2027", channel: email, status: send }
                      - { workflow: birthday-treat, customer: c2, occurrence: "birthday:2027", channel: sms, status: send,
                          to: "+15555550102", body_contains: "Happy birthday Ben!" }
                  - at: 2027-03-01T14:00:00Z        # no second treat on 1 March
                    expect: []
                  - at: 2028-02-28T14:00:00Z        # 2028 is a leap year: Ben waits for the 29th
                    expect: []
                  - at: 2028-02-29T14:00:00Z
                    expect:
                      - { workflow: birthday-treat, customer: c2, occurrence: "birthday:2028", channel: email, status: send }
                      - { workflow: birthday-treat, customer: c2, occurrence: "birthday:2028", channel: sms, status: send }
              - name: the heads-up eight days before leaves the weekly cap to the treat's two messages
                steps:
                  # nudge.yaml's policy allows two marketing messages in any 7 days. The heads-up goes out
                  # 7 days 23 hours before the treat, outside the 7 days before it: both treat messages go out.
                  - at: 2026-11-12T10:00:00Z        # birthday-reminder's 10:00 in Lisbon, eight days before
                    expect:
                      - { workflow: birthday-reminder, customer: c1, occurrence: "birthday:2026", due: 2026-11-12T10:00:00Z,
                          channel: email, status: send, template: birthday-reminder }
                  - at: 2026-11-20T09:00:00Z
                    expect:
                      - { workflow: birthday-treat, customer: c1, occurrence: "birthday:2026", due: 2026-11-20T09:00:00Z,
                          channel: email, status: send, reason: null, send_after: null }
                      - { workflow: birthday-treat, customer: c1, occurrence: "birthday:2026", due: 2026-11-20T09:00:00Z,
                          channel: push, status: send, reason: null, send_after: null, to: tok-ana }
            """##
        ),
        (
            "Workflows/birthday-treat.yaml",
            ##"""
            # A free drink on the customer's birthday, by email plus a short push (or SMS) nudge.
            id: birthday-treat                 # unique across the project; must match the file name
            name: Birthday treat
            description: On the birthday itself, email a free-drink treat and ping the phone too.
            enabled: true                      # set to false to pause a workflow without deleting it
            trigger:
              birthday: { days_before: 0 }     # fires once a year, on the local birthday at send_at
            when:                              # every expression must hold
              - not ("staff" in customer.tags) # the team gets cake in the back room instead
            actions:
              - send: { channel: email, template: birthday-treat }
              - send: { channel: [push, sms], template: birthday-treat }  # first channel the customer can receive
            catch_up: 1d                       # a run up to a day late still sends it
            """##
        ),
        (
            "Workflows/first-visit-thanks.test.yaml",
            ##"""
            # first-visit-thanks: two hours after a customer's first visit (trigger visit, delay 2h; one
            # occurrence per visit, keyed visit:VISITED_AT), one thank-you email. A later visit is not a
            # first visit: `customer.visits_total == 1` leaves it out.
            customers:
              # signed up long ago, so the sign-up workflows are past their catch_up
              - { id: c1, name: Ana Silva, email: ana@example.com, email_opt_in: true, signed_up_at: 2026-01-10 }
              # a regular: three visits already
              - { id: c2, name: Ben Okafor, email: ben@example.com, email_opt_in: true, signed_up_at: 2026-01-10 }
            visits:
              - { customer_id: c1, visited_at: 2026-11-10T15:00:00Z, amount: 4.50 }
              - { customer_id: c2, visited_at: 2026-10-01T15:00:00Z }
              - { customer_id: c2, visited_at: 2026-10-20T15:00:00Z }
              - { customer_id: c2, visited_at: 2026-11-10T15:30:00Z }
            tests:
              - name: a first visit is thanked two hours later, once
                steps:
                  - at: 2026-11-10T16:59:00Z        # not yet two hours
                    expect: []
                  - at: 2026-11-10T17:00:00Z
                    expect:
                      - { workflow: first-visit-thanks, customer: c1, channel: email, status: send,
                          occurrence: "visit:2026-11-10T15:00:00Z", due: 2026-11-10T17:00:00Z,
                          subject: "Thanks for coming in, Ana" }
                  # Ana's thanks is already sent; Ben's visit of 15:30 is due too, but it is his third
                  - at: 2026-11-11T09:00:00Z
                    expect: []
              - name: a second visit is not thanked
                steps:
                  - at: 2026-11-10T17:00:00Z
                    expect: [ { workflow: first-visit-thanks, customer: c1, occurrence: "visit:2026-11-10T15:00:00Z" } ]
                  - visits: [ { customer_id: c1, visited_at: 2026-11-12T15:00:00Z } ]
                  - at: 2026-11-12T17:30:00Z        # visits_total is 2 now
                    expect: []
            """##
        ),
        (
            "Workflows/first-visit-thanks.yaml",
            ##"""
            # Thank first-time visitors a couple of hours after they came in.
            id: first-visit-thanks
            name: Thanks for your first visit
            description: Two hours after a customer's first visit, thank them and show how the card works.
            trigger:
              visit: { delay: 2h }        # one occurrence per visit: visit:VISITED_AT
            when:
              - customer.visits_total == 1
            actions:
              - send: { channel: email, template: first-visit-thanks }
            catch_up: 1d
            """##
        ),
        (
            "Workflows/friday-regulars.test.yaml",
            ##"""
            # friday-regulars: every Friday at 10:00 in the business's zone (cron "0 10 * * 5"; 15:00Z in
            # winter), the regulars (segment of nudge.yaml: at least 4 visits in 30 days) hear about the
            # pastry of the week, by push, else email. Once per Friday; catch_up 2h.
            customers:
              - { id: c1, name: Ana Silva, signed_up_at: 2025-06-01, email: ana@example.com, email_opt_in: true,
                  push_opt_in: true, push_token: tok-ana }
              - { id: c2, name: Ben Okafor, signed_up_at: 2025-06-01, email: ben@example.com, email_opt_in: true }
              # three visits in 30 days: not a regular
              - { id: c3, name: Cleo Park, signed_up_at: 2025-06-01, email: cleo@example.com, email_opt_in: true }
            visits:
              - { customer_id: c1, visited_at: 2026-10-27T13:00:00Z }
              - { customer_id: c1, visited_at: 2026-11-02T13:00:00Z }
              - { customer_id: c1, visited_at: 2026-11-05T13:00:00Z }
              - { customer_id: c1, visited_at: 2026-11-11T13:00:00Z }
              - { customer_id: c2, visited_at: 2026-10-27T13:00:00Z }
              - { customer_id: c2, visited_at: 2026-11-02T13:00:00Z }
              - { customer_id: c2, visited_at: 2026-11-05T13:00:00Z }
              - { customer_id: c2, visited_at: 2026-11-11T13:00:00Z }
              - { customer_id: c3, visited_at: 2026-11-02T13:00:00Z }
              - { customer_id: c3, visited_at: 2026-11-05T13:00:00Z }
              - { customer_id: c3, visited_at: 2026-11-11T13:00:00Z }
            tests:
              - name: on Friday at 10:00 the regulars hear about the pastry, once
                steps:
                  - at: 2026-11-13T14:59:00Z        # Friday 13 November, 09:59 EST
                    expect: []
                  - at: 2026-11-13T15:00:00Z
                    expect:
                      - { workflow: friday-regulars, customer: c1, channel: push, status: send,
                          occurrence: "schedule:2026-11-13T10:00", due: 2026-11-13T15:00:00Z,
                          title: "Friday treat for our regulars 🥐" }
                      - { workflow: friday-regulars, customer: c2, channel: email, status: send,
                          occurrence: "schedule:2026-11-13T10:00", subject: "A Friday treat for our regulars" }
                  - at: 2026-11-13T16:30:00Z
                    expect: []
                  - at: 2026-11-20T15:00:00Z        # next Friday: a new occurrence
                    expect:
                      - { workflow: friday-regulars, customer: c1, occurrence: "schedule:2026-11-20T10:00" }
                      - { workflow: friday-regulars, customer: c2, occurrence: "schedule:2026-11-20T10:00" }
              - name: a run two hours late skips that Friday
                steps:
                  - at: 2026-11-13T17:00:00Z        # due + catch_up: the window has just closed
                    expect: []
            """##
        ),
        (
            "Workflows/friday-regulars.yaml",
            ##"""
            # A recurring broadcast to a segment: Friday's pastry special, for the regulars.
            id: friday-regulars
            name: Friday treat for regulars
            description: Every Friday at 10:00 (the business's time), tell the regulars about the week's pastry.
            trigger:
              schedule: { cron: "0 10 * * 5" }   # minute hour day-of-month month day-of-week
            when:
              - '"regulars" in customer.segments'
            actions:
              - send: { channel: [push, email], template: friday-regulars }
            catch_up: 2h
            """##
        ),
        (
            "Workflows/holiday-hours.test.yaml",
            ##"""
            # holiday-hours: a one-off broadcast (trigger once, 2026-12-20 at 10:00 in the business's zone,
            # 15:00Z) by email to everyone who came in during the last 90 days. catch_up 1d: a run up to a
            # day late still sends it, a later one does not.
            customers:
              - { id: c1, name: Ana Silva, signed_up_at: 2025-06-01, email: ana@example.com, email_opt_in: true }
              # last came in May: left out by `when` (visits_90d is 0)
              - { id: c2, name: Ben Okafor, signed_up_at: 2025-06-01, email: ben@example.com, email_opt_in: true }
              # came in recently but gave no email consent: planned, suppressed with the reason
              - { id: c3, name: Cleo Park, signed_up_at: 2025-06-01, email: cleo@example.com, email_opt_in: false }
            visits:
              - { customer_id: c1, visited_at: 2026-10-15T15:00:00Z }
              - { customer_id: c2, visited_at: 2026-05-10T15:00:00Z }
              - { customer_id: c3, visited_at: 2026-11-29T15:00:00Z }
            tests:
              - name: recent customers get the holiday hours on 20 December at 10:00, once
                steps:
                  - at: 2026-12-20T14:59:00Z
                    expect: []
                  - at: 2026-12-20T15:00:00Z
                    expect:
                      - { workflow: holiday-hours, customer: c1, channel: email, status: send, occurrence: once,
                          due: 2026-12-20T15:00:00Z, subject: "Our holiday opening hours", body_contains: "closed on 25 December" }
                      - { workflow: holiday-hours, customer: c3, channel: null, status: suppressed, reason: not opted in to email }
                  - at: 2026-12-20T20:00:00Z
                    expect: []
              - name: a run up to a day late still sends it
                steps:
                  - at: 2026-12-21T14:59:00Z        # 23 h 59 min late
                    expect:
                      - { workflow: holiday-hours, customer: c1, channel: email, status: send, occurrence: once }
                      - { workflow: holiday-hours, customer: c3, status: suppressed }
              - name: a run a day late or more sends nothing
                steps:
                  - at: 2026-12-21T15:00:00Z        # due + catch_up: the window has just closed
                    expect: []
            """##
        ),
        (
            "Workflows/holiday-hours.yaml",
            ##"""
            # A one-off broadcast: the holiday opening hours, to everyone who came in this autumn.
            id: holiday-hours
            name: Holiday opening hours
            description: On 20 December at 10:00 (the business's time), tell recent customers when we are open.
            trigger:
              once: { at: "2026-12-20T10:00" }
            when:
              - customer.visits_90d >= 1
            actions:
              - send: { channel: email, template: holiday-hours }
            catch_up: 1d
            """##
        ),
        (
            "Workflows/new-offer.test.yaml",
            ##"""
            # new-offer: when an offer is published (offers: published_at, category), one email to each
            # customer whose preferences include its category, once per offer (key new_offer:OFFER).
            customers:
              - { id: c1, name: Ana Silva, signed_up_at: 2025-06-01, email: ana@example.com, email_opt_in: true, preferences: "tea;pastry" }
              # likes coffee only: left out by `when`
              - { id: c2, name: Ben Okafor, signed_up_at: 2025-06-01, email: ben@example.com, email_opt_in: true, preferences: coffee }
              # likes tea but gave no email consent: planned, suppressed with the reason
              - { id: c3, name: Cleo Park, signed_up_at: 2025-06-01, email: cleo@example.com, email_opt_in: false, preferences: tea }
            offers:
              - { id: winter-chai, name: Winter chai, stamps_required: 8, category: tea, published_at: 2026-11-25T10:00:00Z }
              # no published_at: never announced
              - { id: espresso-card, name: Espresso card, stamps_required: 10, category: coffee }
            tests:
              - name: a new tea offer is announced to tea lovers when it is published, once
                steps:
                  - at: 2026-11-25T09:59:00Z
                    expect: []
                  - at: 2026-11-25T10:00:00Z
                    expect:
                      - { workflow: new-offer, customer: c1, channel: email, status: send, occurrence: "new_offer:winter-chai",
                          due: 2026-11-25T10:00:00Z, subject: "New at Bean There Café: Winter chai",
                          body_contains: "Collect 8 stamps" }
                      - { workflow: new-offer, customer: c3, channel: null, status: suppressed, reason: not opted in to email }
                  - at: 2026-11-25T18:00:00Z
                    expect: []
              - name: each offer is announced on its own, a later one to its own audience
                steps:
                  - at: 2026-11-25T10:00:00Z
                    expect:
                      - { workflow: new-offer, customer: c1, occurrence: "new_offer:winter-chai" }
                      - { workflow: new-offer, customer: c3, occurrence: "new_offer:winter-chai", status: suppressed }
                  # a pastry offer published a week later (a local time: the business's zone, 10:00 EST)
                  - offers: [ { id: almond-croissant, name: Almond croissant, stamps_required: 6, category: pastry,
                                published_at: "2026-12-02T10:00" } ]
                  - at: 2026-12-02T15:00:00Z
                    expect:
                      - { workflow: new-offer, customer: c1, channel: email, occurrence: "new_offer:almond-croissant",
                          due: 2026-12-02T15:00:00Z, subject: "New at Bean There Café: Almond croissant" }
            """##
        ),
        (
            "Workflows/new-offer.yaml",
            ##"""
            # Announce a new offer to the customers who said they like its kind (offers CSV: published_at, category;
            # customers CSV: preferences, ";"-separated).
            id: new-offer
            name: New offer for you
            description: When an offer is published, tell the customers whose preferences include its category.
            trigger:
              new_offer: {}               # fires once per offer, at its published_at: new_offer:OFFER
            when:
              - offer.category in customer.preferences
            actions:
              - send: { channel: email, template: new-offer }
            catch_up: 1d
            """##
        ),
        (
            "Workflows/one-year-anniversary.test.yaml",
            ##"""
            # one-year-anniversary: 365 days (x 24 h) after signing up, members with at least 5 visits, one of
            # them in the last 90 days, get a thank-you (email, else push). catch_up 3d: a runner down for up
            # to three days still sends it.
            customers:
              - { id: c1, name: Ana Silva, email: ana@example.com, email_opt_in: true, signed_up_at: 2025-11-10T15:00:00Z }
              # only two visits: left out by `when`
              - { id: c2, name: Ben Okafor, email: ben@example.com, email_opt_in: true, signed_up_at: 2025-11-10T15:00:00Z }
              # six visits, but none in the last 90 days: left out by `when`
              - { id: c3, name: Cleo Park, email: cleo@example.com, email_opt_in: true, signed_up_at: 2025-11-10T15:00:00Z }
            visits:
              - { customer_id: c1, visited_at: 2026-01-15T15:00:00Z }
              - { customer_id: c1, visited_at: 2026-04-15T15:00:00Z }
              - { customer_id: c1, visited_at: 2026-07-15T15:00:00Z }
              - { customer_id: c1, visited_at: 2026-09-20T15:00:00Z }
              - { customer_id: c1, visited_at: 2026-10-20T15:00:00Z }
              - { customer_id: c2, visited_at: 2026-10-01T15:00:00Z }
              - { customer_id: c2, visited_at: 2026-10-21T15:00:00Z }
              - { customer_id: c3, visited_at: 2026-01-05T15:00:00Z }
              - { customer_id: c3, visited_at: 2026-02-05T15:00:00Z }
              - { customer_id: c3, visited_at: 2026-03-05T15:00:00Z }
              - { customer_id: c3, visited_at: 2026-04-05T15:00:00Z }
              - { customer_id: c3, visited_at: 2026-05-05T15:00:00Z }
              - { customer_id: c3, visited_at: 2026-06-05T15:00:00Z }
            tests:
              - name: a year after sign-up, a loyal member is thanked once, even two days late
                steps:
                  - at: 2026-11-12T15:00:00Z        # due 2026-11-10T15:00Z, two days ago
                    expect:
                      - { workflow: one-year-anniversary, customer: c1, channel: email, status: send, occurrence: signup,
                          due: 2026-11-10T15:00:00Z, subject: "One year of coffee together, Ana", body_contains: "5 visits later" }
                  - at: 2026-11-12T20:00:00Z
                    expect: []
              - name: three days late, the anniversary is skipped
                steps:
                  - at: 2026-11-13T15:00:00Z        # due + catch_up: the window has just closed
                    expect: []
            """##
        ),
        (
            "Workflows/one-year-anniversary.yaml",
            ##"""
            # One year in the club: thank loyal members who still come by.
            id: one-year-anniversary
            name: One year with us
            description: A year after signup, thank members who visited in the last 90 days.
            trigger:
              signup: { days_after: 365 }
            when:
              - customer.visits_90d >= 1 and customer.visits_total >= 5
            actions:
              - send: { channel: [email, push], template: one-year-anniversary }
            catch_up: 3d
            """##
        ),
        (
            "Workflows/reward-ready.test.yaml",
            ##"""
            # reward-ready: each reward a stamp card earns (rewards_earned goes up) is announced right away, at
            # the card's updated_at, by push (else email), once per reward (key reward:OFFER:N). It is
            # transactional: the weekly caps of nudge.yaml never hold it back.
            customers:
              - { id: c1, name: Ana Silva, signed_up_at: 2025-06-01, email: ana@example.com, email_opt_in: true,
                  push_opt_in: true, push_token: tok-ana }
              - { id: c2, name: Ben Okafor, signed_up_at: 2025-06-01, email: ben@example.com, email_opt_in: true }
              # no consent on any channel
              - { id: c3, name: Cleo Park, signed_up_at: 2025-06-01, email: cleo@example.com }
            offers:                                  # no published_at: new-offer never announces it
              - { id: coffee-card, name: Coffee, stamps_required: 10 }
            progress:                                # updated_at: the first run of each test
              - { customer_id: c1, offer_id: coffee-card, stamps: 2 }
              - { customer_id: c2, offer_id: coffee-card, stamps: 2 }
              - { customer_id: c3, offer_id: coffee-card, stamps: 2 }
            tests:
              - name: each reward is announced at once, and only once
                steps:
                  - at: 2026-11-09T15:00:00Z        # no reward yet
                    expect: []
                  # the loyalty platform reports the full card: a reward earned, stamps back to 0
                  - progress: [ { customer_id: c1, offer_id: coffee-card, stamps: 0, rewards_earned: 1, updated_at: 2026-11-10T15:00:00Z } ]
                  - at: 2026-11-10T15:01:00Z
                    expect:
                      - { workflow: reward-ready, customer: c1, channel: push, status: send, occurrence: "reward:coffee-card:1",
                          due: 2026-11-10T15:00:00Z, title: "Your Coffee reward is ready 🎉", body_contains: "reward number 1 is on us" }
                  # a stamp after the reward moves updated_at but earns nothing new
                  - progress: [ { customer_id: c1, offer_id: coffee-card, stamps: 1, rewards_earned: 1, updated_at: 2026-11-11T15:00:00Z } ]
                  - at: 2026-11-11T15:01:00Z
                    expect: []
                  - progress: [ { customer_id: c1, offer_id: coffee-card, stamps: 0, rewards_earned: 2, updated_at: 2026-11-30T15:00:00Z } ]
                  - at: 2026-11-30T15:01:00Z
                    expect:
                      - { workflow: reward-ready, customer: c1, channel: push, occurrence: "reward:coffee-card:2",
                          body_contains: "reward number 2 is on us" }
              - name: by email without push, suppressed without consent
                steps:
                  - progress:
                      - { customer_id: c2, offer_id: coffee-card, stamps: 0, rewards_earned: 1, updated_at: 2026-11-10T15:00:00Z }
                      - { customer_id: c3, offer_id: coffee-card, stamps: 0, rewards_earned: 1, updated_at: 2026-11-10T15:00:00Z }
                  - at: 2026-11-10T15:01:00Z
                    expect:
                      - { workflow: reward-ready, customer: c2, channel: email, status: send, occurrence: "reward:coffee-card:1",
                          subject: "Your Coffee reward is ready, Ben" }
                      - { workflow: reward-ready, customer: c3, channel: null, status: suppressed,
                          reason: "push: no push token; email: not opted in to email" }
              - name: a reward goes out even when the weekly cap is used up
                steps:
                  # stamp-milestones sends Ana its 50 % and then its 80 % note: two marketing messages this week,
                  # the most nudge.yaml's policy allows
                  - progress: [ { customer_id: c1, offer_id: coffee-card, stamps: 5, updated_at: 2026-11-10T15:00:00Z } ]
                  - at: 2026-11-10T15:01:00Z
                    expect:
                      - { workflow: stamp-milestones, customer: c1, channel: push, status: send, occurrence: "milestone:coffee-card:0:50" }
                  - progress: [ { customer_id: c1, offer_id: coffee-card, stamps: 8, updated_at: 2026-11-11T15:00:00Z } ]
                  - at: 2026-11-11T15:01:00Z
                    expect:
                      - { workflow: stamp-milestones, customer: c1, channel: push, status: send, occurrence: "milestone:coffee-card:0:80" }
                  - progress: [ { customer_id: c1, offer_id: coffee-card, stamps: 0, rewards_earned: 1, updated_at: 2026-11-12T15:00:00Z } ]
                  - at: 2026-11-12T15:01:00Z
                    expect:
                      - { workflow: reward-ready, customer: c1, channel: push, status: send, occurrence: "reward:coffee-card:1" }
            """##
        ),
        (
            "Workflows/reward-ready.yaml",
            ##"""
            # Tell customers their reward is ready the moment a stamp card fills up.
            id: reward-ready
            name: Your reward is ready
            description: When any stamp card earns a reward, say so right away (push if we can, else email).
            trigger:
              reward: { offer: "*" }      # fires once per reward earned: reward:OFFER:N
            actions:
              - send: { channel: [push, email], template: reward-ready }
            catch_up: 1d
            category: transactional       # the customer earned it: exempt from the policy's caps and quiet hours
            """##
        ),
        (
            "Workflows/second-visit-nudge.test.yaml",
            ##"""
            # second-visit-nudge: three days (3 x 24 h) after signing up, members with no recorded visit yet
            # get one SMS. Members who already came in are left out by `when`; SMS needs a phone and consent.
            customers:
              - { id: c1, name: Ana Silva, phone: "+15555550101", sms_opt_in: true, signed_up_at: 2026-11-02T14:00:00Z }
              # came in the day after signing up: customer.visits_total is 1, so `when` filters Ben out
              - { id: c2, name: Ben Okafor, phone: "+15555550102", sms_opt_in: true, signed_up_at: 2026-11-02T14:00:00Z }
              # no SMS consent: planned, but suppressed with the reason
              - { id: c3, name: Cleo Park, phone: "+15555550103", sms_opt_in: false, signed_up_at: 2026-11-02T14:00:00Z }
            visits:
              - { customer_id: c2, visited_at: 2026-11-03T16:00:00Z }
            tests:
              - name: three days after sign-up, members who never came get one text
                steps:
                  - at: 2026-11-05T13:59:00Z         # a minute before signed_up_at + 72 h
                    expect: []
                  - at: 2026-11-05T14:00:00Z
                    expect:
                      - { workflow: second-visit-nudge, customer: c1, channel: sms, status: send, occurrence: signup,
                          due: 2026-11-05T14:00:00Z, to: "+15555550101", encoding: GSM-7, segments: 1,
                          body_contains: "Hi Ana, your Bean There Café card is ready!" }
                      - { workflow: second-visit-nudge, customer: c3, channel: null, status: suppressed, reason: not opted in to sms }
                  - at: 2026-11-06T09:00:00Z         # still within catch_up (1d), but already sent
                    expect: []
            """##
        ),
        (
            "Workflows/second-visit-nudge.yaml",
            ##"""
            # Members who signed up but have not been in since get a short text after three days.
            id: second-visit-nudge
            name: Come back for a cup
            description: Three days after signup, text members with no recorded visit yet.
            trigger:
              signup: { days_after: 3 }   # signed_up_at + 3 x 24 h
            when:
              - customer.visits_total == 0
            actions:
              - send: { channel: sms, template: second-visit-nudge }
            catch_up: 1d
            """##
        ),
        (
            "Workflows/stamp-milestones.test.yaml",
            ##"""
            # stamp-milestones: when a stamp card reaches 50 %, 80 % and 100 % (any offer), a progress note by
            # push (else email), due at the card's updated_at, once per threshold (key
            # milestone:OFFER:REWARDS_EARNED:PERCENT). A jump past several thresholds sends only the highest.
            customers:
              - { id: c1, name: Ana Silva, signed_up_at: 2025-06-01, email: ana@example.com, email_opt_in: true,
                  push_opt_in: true, push_token: tok-ana }
              - { id: c2, name: Ben Okafor, signed_up_at: 2025-06-01, email: ben@example.com, email_opt_in: true }
            offers:                                  # no published_at: new-offer never announces them
              - { id: coffee-card, name: Coffee, stamps_required: 10 }
              - { id: tea-card, name: Tea, stamps_required: 8 }
            progress:                                # updated_at: the first run of each test
              - { customer_id: c1, offer_id: coffee-card, stamps: 4 }
              - { customer_id: c2, offer_id: tea-card, stamps: 2 }
            tests:
              - name: half-way and 80 % each bring one push, stamps in between nothing
                steps:
                  - at: 2026-11-09T15:00:00Z        # 40 % and 25 %: nothing yet
                    expect: []
                  - progress: [ { customer_id: c1, offer_id: coffee-card, stamps: 5, updated_at: 2026-11-10T15:00:00Z } ]
                  - at: 2026-11-10T15:05:00Z
                    expect:
                      - { workflow: stamp-milestones, customer: c1, channel: push, status: send,
                          occurrence: "milestone:coffee-card:0:50", due: 2026-11-10T15:00:00Z,
                          title: "Your Coffee card is 50% full", body_contains: "5 of 10 stamps collected, 5 to go." }
                  - progress: [ { customer_id: c1, offer_id: coffee-card, stamps: 6, updated_at: 2026-11-11T15:00:00Z } ]
                  - at: 2026-11-11T15:05:00Z        # 60 %: no new threshold
                    expect: []
                  - progress: [ { customer_id: c1, offer_id: coffee-card, stamps: 8, updated_at: 2026-11-12T15:00:00Z } ]
                  - at: 2026-11-12T15:05:00Z
                    expect:
                      - { workflow: stamp-milestones, customer: c1, channel: push, occurrence: "milestone:coffee-card:0:80",
                          title: "Your Coffee card is 80% full" }
              - name: a jump past 50 and 80 % sends only the 80 % note (email without push), then 100 %
                steps:
                  - at: 2026-11-09T15:00:00Z
                    expect: []
                  - progress: [ { customer_id: c2, offer_id: tea-card, stamps: 7, updated_at: 2026-11-10T15:00:00Z } ]
                  - at: 2026-11-10T15:05:00Z        # 2 -> 7 of 8 stamps (87.5 %)
                    expect:
                      - { workflow: stamp-milestones, customer: c2, channel: email, status: send,
                          occurrence: "milestone:tea-card:0:80", subject: "You're 80% of the way to Tea",
                          body_contains: "Stamps collected: 7 of 8" }
                  - at: 2026-11-10T20:00:00Z
                    expect: []
                  - progress: [ { customer_id: c2, offer_id: tea-card, stamps: 8, updated_at: 2026-11-11T15:00:00Z } ]
                  - at: 2026-11-11T15:05:00Z        # the card is full (rewards_earned stays 0 until it is redeemed)
                    expect:
                      - { workflow: stamp-milestones, customer: c2, channel: email, occurrence: "milestone:tea-card:0:100",
                          subject: "You're 100% of the way to Tea" }
            """##
        ),
        (
            "Workflows/stamp-milestones.yaml",
            ##"""
            # Cheer customers on as their stamp card fills up.
            id: stamp-milestones
            name: Stamp card milestones
            description: At 50%, 80% and 100% of any stamp card, send a progress update.
            trigger:
              # offer "*" watches every offer; when a visit jumps past several
              # thresholds at once, only the highest one fires.
              milestone: { offer: "*", percent: [50, 80, 100] }
            actions:
              - send: { channel: [push, email], template: stamp-milestones }  # push if we can, else email
            catch_up: 1d
            """##
        ),
        (
            "Workflows/vip-birthday-wallet.test.yaml",
            ##"""
            # vip-birthday-wallet: on a VIP's local birthday at 08:00 (the workflow's send_at), the wallet pass
            # gets a birthday message. Only customers tagged vip; the wallet channel needs a wallet_pass_id.
            # birthday-treat is due at 09:00 on the same day, so these runs stay before 09:00 local.
            customers:
              - { id: c1, name: Ana Silva, birth_date: 1990-11-20, signed_up_at: 2025-06-01, tags: [vip], wallet_pass_id: pass-c1 }
              # a VIP without a pass: planned, but no channel can carry it
              - { id: c2, name: Ben Okafor, birth_date: 1988-11-20, signed_up_at: 2025-06-01, tags: [vip] }
              # not a VIP: left out by `when`
              - { id: c3, name: Cleo Park, birth_date: 1992-11-20, signed_up_at: 2025-06-01, tags: [regular], wallet_pass_id: pass-c3 }
            tests:
              - name: a VIP's pass shows a birthday message at 08:00 local, once
                steps:
                  - at: 2026-11-20T12:59:00Z        # 07:59 EST
                    expect: []
                  - at: 2026-11-20T13:00:00Z        # 08:00 EST
                    expect:
                      - { workflow: vip-birthday-wallet, customer: c1, channel: wallet, status: send, occurrence: "birthday:2026",
                          due: 2026-11-20T13:00:00Z, to: pass-c1, header: "Happy birthday, Ana!", body_contains: "A free pastry" }
                      - { workflow: vip-birthday-wallet, customer: c2, channel: null, status: suppressed, reason: no wallet pass }
                  - at: 2026-11-20T13:45:00Z
                    expect: []
            """##
        ),
        (
            "Workflows/vip-birthday-wallet.yaml",
            ##"""
            # VIPs find their birthday reward right on their wallet pass.
            id: vip-birthday-wallet
            name: VIP birthday pass update
            description: On a VIP's birthday, update their wallet pass with a free pastry reward.
            trigger:
              birthday: { days_before: 0 }
            when:
              # An expression that starts with a quote must be quoted as a whole in YAML.
              - '"vip" in customer.tags'
            actions:
              - send: { channel: wallet, template: vip-birthday-wallet }   # needs a wallet_pass_id
            send_at: "08:00"              # the pass is ready before the morning coffee run
            """##
        ),
        (
            "Workflows/vip-welcome.test.yaml",
            ##"""
            # vip-welcome: the day a run first sees a customer in the built-in vip segment (top 20 % of
            # spenders, percent_rank >= 0.8, and 3+ visits in 30 days), a thank-you by push, else email, at
            # 09:00 local (key segment:vip:LOCALDATE). Staying in sends nothing more; leaving and coming back
            # is a new entry.
            customers:
              - { id: c1, name: Ana Silva, signed_up_at: 2025-06-01, email: ana@example.com, email_opt_in: true,
                  push_opt_in: true, push_token: tok-ana }
              # four smaller spenders, so that Ana's spend ranks in the top 20 % (4 of 5 spend less)
              - { id: c2, name: Ben Okafor, signed_up_at: 2025-06-01 }
              - { id: c3, name: Cleo Park, signed_up_at: 2025-06-01 }
              - { id: c4, name: Dev Patel, signed_up_at: 2025-06-01 }
              - { id: c5, name: Eli Moreau, signed_up_at: 2025-06-01 }
            visits:
              - { customer_id: c1, visited_at: 2026-11-02T14:00:00Z, amount: 20.00 }
              - { customer_id: c1, visited_at: 2026-11-05T14:00:00Z, amount: 20.00 }
              - { customer_id: c2, visited_at: 2026-06-01T14:00:00Z, amount: 5.00 }
              - { customer_id: c3, visited_at: 2026-06-01T14:00:00Z, amount: 6.00 }
              - { customer_id: c4, visited_at: 2026-06-01T14:00:00Z, amount: 7.00 }
              - { customer_id: c5, visited_at: 2026-06-01T14:00:00Z, amount: 8.00 }
            tests:
              - name: a third visit this month makes Ana a VIP; she is thanked that day, once
                steps:
                  - at: 2026-11-09T13:00:00Z        # top spender, but two visits in 30 days: not frequent yet
                    expect: []
                  - visits: [ { customer_id: c1, visited_at: 2026-11-09T13:30:00Z, amount: 20.00 } ]
                  - at: 2026-11-09T14:00:00Z        # 09:00 EST on the day of entry
                    expect:
                      - { workflow: vip-welcome, customer: c1, channel: push, status: send, occurrence: "segment:vip:2026-11-09",
                          due: 2026-11-09T14:00:00Z, title: "You're a VIP now ⭐", body_contains: "3 visits this month" }
                  - at: 2026-11-11T14:00:00Z        # still a VIP: nothing new
                    expect: []
              - name: leaving the segment and coming back is a new entry
                steps:
                  - visits: [ { customer_id: c1, visited_at: 2026-11-09T13:30:00Z, amount: 20.00 } ]
                  - at: 2026-11-09T14:00:00Z
                    expect: [ { workflow: vip-welcome, customer: c1, occurrence: "segment:vip:2026-11-09" } ]
                  - at: 2026-12-03T14:00:00Z        # the visit of 2 November is over 30 days old: out of the segment
                    expect: []
                  - visits:
                      - { customer_id: c1, visited_at: 2026-12-04T15:00:00Z, amount: 20.00 }
                      - { customer_id: c1, visited_at: 2026-12-05T15:00:00Z, amount: 20.00 }
                  - at: 2026-12-05T16:00:00Z        # 3 visits in 30 days again: the next run sees her back
                    expect:
                      - { workflow: vip-welcome, customer: c1, channel: push, occurrence: "segment:vip:2026-12-05",
                          due: 2026-12-05T14:00:00Z }
            """##
        ),
        (
            "Workflows/vip-welcome.yaml",
            ##"""
            # Thank customers the day they become VIPs: top 20 % of spenders who also come often.
            id: vip-welcome
            name: Welcome to VIP
            description: When a customer enters the built-in vip segment, thank them and tell them what it brings.
            trigger:
              segment: { enter: vip }     # fires once per entry, at send_at on the day a run first sees them in it
            actions:
              - send: { channel: [push, email], template: vip-welcome }
            catch_up: 2d
            """##
        ),
        (
            "Workflows/welcome.test.yaml",
            ##"""
            # welcome: a new member gets one welcome email right after signing up (trigger signup, due at the
            # signed_up_at instant, catch_up 1d). Consent is enforced, and a sign-up more than a day old
            # (a late run, a bulk import) is not welcomed.
            customers:
              - { id: c1, name: Ana Silva, email: ana@example.com, email_opt_in: true, signed_up_at: 2026-11-02T14:00:00Z }
              - { id: c2, name: Ben Okafor, email: ben@example.com, email_opt_in: false, signed_up_at: 2026-11-02T13:00:00Z }
              # signed up more than a day before the first run below: past welcome's catch_up
              - { id: c3, name: Cleo Park, email: cleo@example.com, email_opt_in: true, signed_up_at: 2026-11-01T13:00:00Z }
            tests:
              - name: a new member is welcomed by email at once, and only once
                steps:
                  - at: 2026-11-02T14:15:00Z
                    expect:
                      - { workflow: welcome, customer: c1, channel: email, status: send, occurrence: signup,
                          due: 2026-11-02T14:00:00Z, to: ana@example.com, subject: "Welcome to Bean There Café, Ana!" }
                      # no consent: still planned (and recorded), but suppressed with the reason
                      - { workflow: welcome, customer: c2, channel: null, status: suppressed, reason: not opted in to email }
                  - at: 2026-11-02T20:00:00Z
                    expect: []                       # already in the ledger: nothing twice
              - name: a run more than a day after the sign-up sends no welcome
                steps:
                  # the first run of this test comes 1 day and 30 minutes after Ana's sign-up
                  - at: 2026-11-03T14:30:00Z
                    expect: []
            """##
        ),
        (
            "Workflows/welcome.yaml",
            ##"""
            # Say hello as soon as someone joins the loyalty program.
            id: welcome
            name: Welcome to the club
            description: Right after signup, welcome the new member and explain the stamp card.
            trigger:
              signup: { days_after: 0 }   # due at the signup instant itself
            actions:
              - send: { channel: email, template: welcome }
            catch_up: 1d                  # older signups (e.g. a bulk import) are not welcomed late
            """##
        ),
        (
            "Workflows/win-back.test.yaml",
            ##"""
            # win-back: 30 days after the last visit (at 09:00 local), an invitation by email (else SMS); a week
            # later, a text if the customer is still away. A new visit ends the journey and starts a new quiet
            # spell. One customer in ten is held out (variant fixed by workflow and customer id: c1 is in
            # "invite", c3 in "holdout"); staff and people who never came are left out by `when`.
            customers:
              - { id: c1, name: Ana Silva, signed_up_at: 2025-03-01, email: ana@example.com, email_opt_in: true,
                  phone: "+15555550101", sms_opt_in: true }
            visits:
              - { customer_id: c1, visited_at: 2026-09-20T14:00:00Z }
            tests:
              - name: thirty quiet days bring an email, a text a week later, and another email at sixty
                steps:
                  - at: 2026-10-20T13:00:00Z        # 2026-09-20 + 30 days, 09:00 EDT
                    expect:
                      - { workflow: win-back, customer: c1, variant: invite, channel: email, status: send,
                          occurrence: "inactivity:2026-09-20:30", due: 2026-10-20T13:00:00Z,
                          subject: "We miss you at Bean There Café, Ana", body_contains: "It has been 30 days" }
                  - at: 2026-10-21T13:00:00Z
                    expect: []
                  - at: 2026-10-27T13:00:00Z        # the step after `wait: 7d`, key KEY/1
                    expect:
                      - { workflow: win-back, customer: c1, variant: invite, channel: sms, status: send,
                          occurrence: "inactivity:2026-09-20:30/1", template: win-back-reminder,
                          body_contains: "your bonus stamp is still waiting, Ana" }
                  - at: 2026-11-19T14:00:00Z        # still away at 60 days (09:00 EST): a second invitation
                    expect:
                      - { workflow: win-back, customer: c1, channel: email, occurrence: "inactivity:2026-09-20:60",
                          body_contains: "It has been 60 days" }
              - name: coming back ends the journey; the next quiet spell starts from the new visit
                steps:
                  - at: 2026-10-20T13:00:00Z
                    expect: [ { workflow: win-back, customer: c1, channel: email, occurrence: "inactivity:2026-09-20:30" } ]
                  - visits: [ { customer_id: c1, visited_at: 2026-10-23T15:00:00Z } ]
                  - at: 2026-10-27T13:00:00Z        # back four days ago: no reminder
                    expect: []
                  - at: 2026-11-22T14:00:00Z        # 2026-10-23 + 30 days, 09:00 EST
                    expect: [ { workflow: win-back, customer: c1, channel: email, occurrence: "inactivity:2026-10-23:30" } ]
              - name: the holdout is recorded but sent nothing; staff and members who never came are not invited
                steps:
                  - customers:
                      - { id: c3, name: Cleo Park, signed_up_at: 2025-03-01, email: cleo@example.com, email_opt_in: true }
                      - { id: c4, name: Dev Patel, signed_up_at: 2025-03-01, email: dev@example.com, email_opt_in: true, tags: [staff] }
                      # signed up on the day of the others' visit, never came: 30 quiet days too, but no visit
                      - { id: c5, name: Eli Moreau, signed_up_at: 2026-09-20T14:00:00Z, email: eli@example.com, email_opt_in: true }
                    visits:
                      - { customer_id: c3, visited_at: 2026-09-20T14:00:00Z }
                      - { customer_id: c4, visited_at: 2026-09-20T14:00:00Z }
                  - at: 2026-10-20T13:00:00Z
                    expect:
                      - { workflow: win-back, customer: c1, variant: invite, channel: email, status: send }
                      - { workflow: win-back, customer: c3, variant: holdout, channel: null, template: null,
                          status: suppressed, reason: holdout, occurrence: "inactivity:2026-09-20:30" }
                  - at: 2026-10-27T13:00:00Z        # a holdout has no follow-up step
                    expect: [ { workflow: win-back, customer: c1, channel: sms, occurrence: "inactivity:2026-09-20:30/1" } ]
            """##
        ),
        (
            "Workflows/win-back.yaml",
            ##"""
            # Customers who have gone quiet get a friendly "we miss you" after 30, 60 and 90 days, and a text
            # a week later if they still have not come back. One in ten is held out (sent nothing, the
            # assignment recorded), so that the win-back can be measured against doing nothing.
            id: win-back
            name: We miss you
            description: After 30, 60 and 90 days without a visit, invite regulars back; a week later, remind those still away.
            trigger:
              inactivity: { days: [30, 60, 90] }   # counted from the last visit (or signup); a new visit starts a new spell
            when:
              - customer.visits_total >= 1         # only people who have actually been in
              - not ("staff" in customer.tags)
            actions:
              - split:                             # each customer's variant is fixed: the same on every run
                  invite:
                    weight: 90
                    then:
                      - send: { channel: [email, sms], template: win-back }
                      - wait: 7d                   # step 1: key inactivity:DATE:N/1, a week after the invitation
                      - when: customer.days_since_last_activity >= trigger.days + 7   # still not back
                      - send: { channel: sms, template: win-back-reminder }
                  holdout: { weight: 10 }          # sent nothing
            exit_when: customer.days_since_last_activity < 7   # came back: the journey stops
            catch_up: 2d                           # a runner down for a weekend still catches up
            """##
        ),
        (
            "Templates/birthday-reminder.email.mustache",
            ##"""
            ---
            subject: Something sweet is brewing for your birthday, {{customer.first_name}}
            ---
            <p>Hi {{customer.first_name}},</p>
            <p>A little bird told us your birthday is just over a week away. We're already warming up the
            espresso machine.</p>
            <p>On the day, look out for a message from us with a free drink of your choice. If you're
            celebrating with friends, bring them along: our corner table is perfect for a birthday catch-up.</p>
            <p>See you soon,<br>The {{business.name}} team</p>
            <p style="font-size:12px;color:#777">You get this because you joined the {{business.name}} loyalty club. <a href="{{unsubscribe_url}}">Unsubscribe</a></p>
            """##
        ),
        (
            "Templates/birthday-treat.email.mustache",
            ##"""
            ---
            subject: Happy birthday, {{customer.first_name}}! Your treat is on us
            ---
            <p>Hi {{customer.first_name}},</p>
            <p>Happy birthday from all of us at {{business.name}}!</p>
            <p>To celebrate, your next drink is on the house: any size, any blend, with all the extra
            foam you like. Just give your name at the counter any time this week.</p>
            <p>We hope your day is as warm as a fresh pour-over.</p>
            <p>Cheers,<br>The {{business.name}} team</p>
            <p style="font-size:12px;color:#777">You get this because you joined the {{business.name}} loyalty club. <a href="{{unsubscribe_url}}">Unsubscribe</a></p>
            """##
        ),
        (
            "Templates/birthday-treat.push.mustache",
            ##"""
            ---
            title: Happy birthday, {{customer.first_name}}!
            ---
            Your next drink at {{business.name}} is on us. Just give your name at the counter this week.
            """##
        ),
        (
            "Templates/birthday-treat.sms.mustache",
            ##"""
            Happy birthday {{customer.first_name}}! Your next drink at {{business.name}} is on us this week, just give your name at the counter. Reply STOP to opt out
            """##
        ),
        (
            "Templates/first-visit-thanks.email.mustache",
            ##"""
            ---
            subject: Thanks for coming in, {{customer.first_name}}
            ---
            <p>Hi {{customer.first_name}},</p>
            <p>Thanks for your first visit to {{business.name}}. Your card has its first stamp: fill it and a drink is on us.</p>
            <p>See you soon!</p>
            <p>The {{business.name}} team</p>
            <p style="font-size:12px;color:#777">You get this because you joined the {{business.name}} loyalty club. <a href="{{unsubscribe_url}}">Unsubscribe</a></p>
            """##
        ),
        (
            "Templates/friday-regulars.email.mustache",
            ##"""
            ---
            subject: A Friday treat for our regulars
            ---
            <p>Hi {{customer.first_name}},</p>
            <p>You're one of our regulars, so this Friday a pastry of the week comes with your coffee at {{business.name}}.</p>
            <p>The {{business.name}} team</p>
            <p style="font-size:12px;color:#777">You get this because you joined the {{business.name}} loyalty club. <a href="{{unsubscribe_url}}">Unsubscribe</a></p>
            """##
        ),
        (
            "Templates/friday-regulars.push.mustache",
            ##"""
            ---
            title: Friday treat for our regulars 🥐
            ---
            This week's pastry is waiting for you at {{business.name}}, with your coffee.
            """##
        ),
        (
            "Templates/holiday-hours.email.mustache",
            ##"""
            ---
            subject: Our holiday opening hours
            ---
            <p>Hi {{customer.first_name}},</p>
            <p>{{business.name}} is open every day over the holidays, 8:00 to 14:00, and closed on 25 December and 1 January.</p>
            <p>Happy holidays!</p>
            <p>The {{business.name}} team</p>
            <p style="font-size:12px;color:#777">You get this because you joined the {{business.name}} loyalty club. <a href="{{unsubscribe_url}}">Unsubscribe</a></p>
            """##
        ),
        (
            "Templates/new-offer.email.mustache",
            ##"""
            ---
            subject: New at {{business.name}}: {{offer.name}}
            ---
            <p>Hi {{customer.first_name}},</p>
            <p>You told us you like {{offer.category}}, so you are among the first to hear: <strong>{{offer.name}}</strong> is here.</p>
            <p>Collect {{offer.stamps_required}} stamps and the next one is on us.</p>
            <p>The {{business.name}} team</p>
            <p style="font-size:12px;color:#777">You get this because you joined the {{business.name}} loyalty club. <a href="{{unsubscribe_url}}">Unsubscribe</a></p>
            """##
        ),
        (
            "Templates/one-year-anniversary.email.mustache",
            ##"""
            ---
            subject: One year of coffee together, {{customer.first_name}}
            ---
            <p>Hi {{customer.first_name}},</p>
            <p>It's been a whole year since you joined the {{business.name}} loyalty club, and
            {{customer.visits_total}} visits later we're still happy every time you walk in.</p>
            <p>As a thank-you, your next pastry is on us. Just mention your anniversary at the counter.</p>
            <p>Here's to the next year of great coffee,<br>The {{business.name}} team</p>
            <p style="font-size:12px;color:#777">You get this because you joined the {{business.name}} loyalty club. <a href="{{unsubscribe_url}}">Unsubscribe</a></p>
            """##
        ),
        (
            "Templates/one-year-anniversary.push.mustache",
            ##"""
            ---
            title: One year with {{business.name}}!
            ---
            Thanks for a year of visits, {{customer.first_name}}. Your next pastry is on us.
            """##
        ),
        (
            "Templates/reward-ready.email.mustache",
            ##"""
            ---
            subject: Your {{offer.name}} reward is ready, {{customer.first_name}}
            ---
            <p>Hi {{customer.first_name}},</p>
            <p>Your <strong>{{offer.name}}</strong> card is full: your reward is waiting at the counter.</p>
            <p>That makes {{progress.rewards_earned}} so far. Thanks for coming back!</p>
            <p>The {{business.name}} team</p>
            <p style="font-size:12px;color:#777">You get this because you joined the {{business.name}} loyalty club. <a href="{{unsubscribe_url}}">Unsubscribe</a></p>
            """##
        ),
        (
            "Templates/reward-ready.push.mustache",
            ##"""
            ---
            title: Your {{offer.name}} reward is ready 🎉
            ---
            Show this at the counter at {{business.name}}: reward number {{progress.rewards_earned}} is on us.
            """##
        ),
        (
            "Templates/second-visit-nudge.sms.mustache",
            ##"""
            Hi {{customer.first_name}}, your {{business.name}} card is ready! Come by for your first stamp, the coffee is fresh. Reply STOP to opt out
            """##
        ),
        (
            "Templates/stamp-milestones.email.mustache",
            ##"""
            ---
            subject: You're {{trigger.percent}}% of the way to {{offer.name}}
            ---
            <p>Hi {{customer.first_name}},</p>
            <p>Your stamp card for <strong>{{offer.name}}</strong> just passed the {{trigger.percent}}% mark.</p>
            <ul>
              <li>Stamps collected: {{progress.stamps}} of {{offer.stamps_required}} ({{progress.percent}}%)</li>
              <li>Stamps to go: {{progress.stamps_remaining}}</li>
              <li>Rewards earned so far: {{progress.rewards_earned}}</li>
            </ul>
            <p>Every visit counts. Thanks for being a regular!</p>
            <p>The {{business.name}} team</p>
            <p style="font-size:12px;color:#777">You get this because you joined the {{business.name}} loyalty club. <a href="{{unsubscribe_url}}">Unsubscribe</a></p>
            """##
        ),
        (
            "Templates/stamp-milestones.push.mustache",
            ##"""
            ---
            title: Your {{offer.name}} card is {{trigger.percent}}% full
            ---
            {{progress.stamps}} of {{offer.stamps_required}} stamps collected, {{progress.stamps_remaining}} to go. See you at {{business.name}}!
            """##
        ),
        (
            "Templates/vip-birthday-wallet.wallet.mustache",
            ##"""
            ---
            header: Happy birthday, {{customer.first_name}}!
            ---
            A free pastry of your choice is waiting for you at {{business.name}} today. Show this pass at the counter.
            """##
        ),
        (
            "Templates/vip-welcome.email.mustache",
            ##"""
            ---
            subject: You're a {{business.name}} VIP, {{customer.first_name}}
            ---
            <p>Hi {{customer.first_name}},</p>
            <p>You've been in {{customer.visits_30d}} times this month: that makes you one of our VIPs.</p>
            <p>From today, your drinks come in a size up at no extra cost. Just show your card.</p>
            <p>Thank you for being part of {{business.name}}.</p>
            <p style="font-size:12px;color:#777">You get this because you joined the {{business.name}} loyalty club. <a href="{{unsubscribe_url}}">Unsubscribe</a></p>
            """##
        ),
        (
            "Templates/vip-welcome.push.mustache",
            ##"""
            ---
            title: You're a VIP now ⭐
            ---
            {{customer.visits_30d}} visits this month: your drinks now come a size up, on us.
            """##
        ),
        (
            "Templates/welcome.email.mustache",
            ##"""
            ---
            subject: Welcome to {{business.name}}, {{customer.first_name}}!
            ---
            <p>Hi {{customer.first_name}},</p>
            <p>Thanks for joining the {{business.name}} loyalty club. We're so glad you're here.</p>
            <p>Here's how it works:</p>
            <ul>
              <li>Collect a stamp with every drink you buy.</li>
              <li>Fill your card and your next drink is free.</li>
              <li>Tell us your birthday and there's a treat waiting for you on the day.</li>
            </ul>
            <p>Your first stamp is waiting at the counter. See you soon!</p>
            <p>Warmly,<br>The {{business.name}} team</p>
            <p style="font-size:12px;color:#777">You get this because you joined the {{business.name}} loyalty club. <a href="{{unsubscribe_url}}">Unsubscribe</a></p>
            """##
        ),
        (
            "Templates/win-back-reminder.sms.mustache",
            ##"""
            {{business.name}}: your bonus stamp is still waiting, {{customer.first_name}}. Come by this week and it's yours. Reply STOP to opt out
            """##
        ),
        (
            "Templates/win-back.email.mustache",
            ##"""
            ---
            subject: We miss you at {{business.name}}, {{customer.first_name}}
            ---
            <p>Hi {{customer.first_name}},</p>
            <p>It has been {{trigger.days}} days since we last saw you, and your usual seat by the window
            misses you.</p>
            <p>Drop by this week and we'll add a bonus stamp to your card with your next order. We have a
            new seasonal roast we think you'll love.</p>
            <p>Hope to see you soon,<br>The {{business.name}} team</p>
            <p style="font-size:12px;color:#777">You get this because you joined the {{business.name}} loyalty club. <a href="{{unsubscribe_url}}">Unsubscribe</a></p>
            """##
        ),
        (
            "Templates/win-back.sms.mustache",
            ##"""
            {{business.name}}: we miss you, {{customer.first_name}}! Drop by this week for a bonus stamp with your next order. Reply STOP to opt out
            """##
        ),
    ]
}
