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
            """##
        ),
        (
            "Workflows/birthday-reminder.yaml",
            ##"""
            # A week ahead of the birthday, let the customer know a treat is coming.
            id: birthday-reminder
            name: Birthday week heads-up
            description: Seven days before the birthday, tell the customer a treat is on its way.
            trigger:
              birthday: { days_before: 7 }     # due on the local date one week before the birthday
            when:
              - not ("staff" in customer.tags)
            actions:
              - send: { channel: email, template: birthday-reminder }
            send_at: "10:00"                   # overrides send_at of nudge.yaml for this workflow
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
            <p>A little bird told us your birthday is just a week away. We're already warming up the
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
