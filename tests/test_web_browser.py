"""The dashboard in a real browser: Debian's headless Chromium driven by Playwright, against a real
`resonance web` process and a real migrated database. Brand a signs in, sees its KPIs and never
brand b's, changes a rule and sees it audited, runs a console query (and downloads it as CSV),
connects a bot and watches an extraction job finish; brand b then sees only its own. One screenshot
per main page lands under out/web/."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect, sync_playwright
from resonance.paths import project_root
from resonance.web.browser import launch
from resonance.web.jobs import mock_guild_id
from web_support import WebStack, start_stack

OUT = project_root() / "out" / "web"


@pytest.fixture(scope="module")
def stack() -> Iterator[WebStack]:
    s = start_stack(mock_messages=2500)  # big enough that the job is seen running
    try:
        yield s
    finally:
        s.stop()


def sign_in(page: Page, stack: WebStack, token: str) -> None:
    page.goto(f"{stack.url}/signin")
    page.fill("#token", token)
    page.click("#signin")
    expect(page.locator("#brand")).to_be_visible()


def shot(page: Page, name: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)


def test_brand_a_in_the_browser_then_brand_b(stack: WebStack) -> None:
    with sync_playwright() as p:
        ctx = launch(p)
        try:
            page = ctx.new_page()
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

            # A bad token is refused at sign-in.
            page.goto(f"{stack.url}/signin")
            page.fill("#token", "not.a.token")
            page.click("#signin")
            expect(page.locator("#signin-error")).to_contain_text("invalid token")

            # Brand a (RS256 through the JWKS, as Clerk issues it).
            sign_in(page, stack, stack.keys.rs256("brand-a", sub="manager-alice"))
            expect(page.locator("#brand")).to_contain_text("brand-a")
            expect(page.locator("#server-id")).to_have_text("srv-a")
            expect(page.locator("figure.kpi")).to_have_count(8)
            dau = page.locator('figure.kpi[data-metric="daily_active_users"]')
            expect(dau).to_contain_text("target 12")
            expect(dau.locator("text.v")).to_have_text("19")  # a's last value; b's would be 9009
            body = page.content()
            assert "srv-b" not in body and "9009" not in body
            shot(page, "overview")

            page.click("nav >> text=Leaderboard")
            expect(page.locator("#leaderboard tbody tr")).to_have_count(5)
            expect(page.locator("#leaderboard")).not_to_contain_text("brand-b")
            shot(page, "leaderboard")
            page.click("#leaderboard >> text=brand-a-member-4")
            expect(page.locator("h1")).to_have_text("Member brand-a-member-4")
            shot(page, "member")

            # Partner Portal: change a rule; the audit log names the signed-in user.
            page.click("nav >> text=Partner Portal")
            page.click("text=Set a rule (one per event type)")
            form = page.locator("#form-rule")
            form.locator('input[name="event_type"]').fill("message")
            form.locator('input[name="reward_amount"]').fill("9")
            form.locator('button[type="submit"]').click()
            expect(page.locator("#portal-ok")).to_contain_text("rule")
            expect(page.locator("#rules")).to_contain_text("9")
            expect(page.locator("#audit tbody tr").first).to_contain_text("admin manager-alice")
            # The bot's validation, in the browser: a trigger without its setting is refused.
            page.click("text=Set a rule (one per event type)")
            form.locator('input[name="reward_amount"]').fill("3")
            form.locator('input[name="detection_config"]').fill('{"trigger": "keyword"}')
            form.locator('button[type="submit"]').click()
            expect(page.locator("#portal-error")).to_contain_text("RS305")
            shot(page, "portal")

            # SQL console: a query, its quota, a CSV download.
            page.click("nav >> text=SQL console")
            expect(page.locator("#quota-left")).to_have_text("1000")
            page.fill("#sql", "SELECT tenant_id, count(*) AS n FROM messages GROUP BY tenant_id")
            page.click("#run")
            expect(page.locator("#console-status")).to_contain_text("999 of 1000 queries left")
            expect(page.locator("#result-table tbody tr")).to_have_count(0)  # a has synced nothing yet; b's rows stay b's
            page.fill("#sql", "SELECT 1 AS one, 'x,y' AS two")
            page.click("#run")
            expect(page.locator("#result-table tbody tr")).to_have_count(1)
            with page.expect_download() as dl:
                page.click("#csv")
            csv_path = dl.value.path()
            assert open(csv_path).read() == 'one,two\n1,"x,y"\n'
            page.fill("#sql", "DELETE FROM messages")
            page.click("#run")
            expect(page.locator("#console-status")).to_contain_text("42601")
            shot(page, "console")

            # Extraction: connect the bot, start a job, watch it run and finish.
            page.click("nav >> text=Extraction")
            page.fill("#guild-id", str(mock_guild_id(42)))
            page.fill("#bot-token", "bot-token-for-the-browser-test")
            page.click("#bot-form button")
            expect(page.locator("#bot-status")).to_contain_text("connected")
            page.click("#start")
            expect(page.locator("#job-live")).to_contain_text(re.compile(r"running|succeeded"))
            expect(page.locator("#job-live")).to_contain_text("succeeded", timeout=120_000)
            synced = int(re.search(r"(\d+) messages synced", page.locator("#job-live").inner_text()).group(1))
            assert synced > 1000
            page.reload()
            expect(page.locator("#jobs tbody tr").first.locator(".status")).to_have_text("succeeded")
            shot(page, "jobs")

            page.click("nav >> text=Who talks to whom")
            expect(page.locator("#graph svg circle.node").first).to_be_visible()
            assert page.locator("#graph svg line.edge").count() > 5
            shot(page, "graph")

            page.click("nav >> text=SQL console")
            page.fill("#sql", "SELECT tenant_id, count(*) AS n FROM messages GROUP BY tenant_id")
            page.click("#run")
            expect(page.locator("#result-table tbody tr")).to_have_count(1)
            expect(page.locator("#result-table")).to_contain_text("brand-a")
            expect(page.locator("#result-table")).to_contain_text(str(synced))

            page.click("nav >> text=Drops")
            expect(page.locator("#drops")).to_be_visible()
            shot(page, "drops")
            page.click("nav >> text=Billing")
            expect(page.locator("#plan")).to_contain_text("free")
            expect(page.locator("#usage")).to_contain_text("3 of 1000")  # three queries ran; the refused DELETE counts nothing
            shot(page, "billing")
            # The OpenAPI page runs the vendored Swagger UI, from this server only.
            page.goto(f"{stack.url}/docs")
            expect(page.get_by_text("/api/query/execute", exact=True).first).to_be_visible(timeout=30_000)
            shot(page, "api-docs")
            assert not [e for e in errors if "Content Security Policy" in e], errors

            page.goto(f"{stack.url}/billing")
            # Sign out, then brand b (HS256, as Supabase Auth issues it) sees only its own.
            page.click("text=Sign out")
            expect(page).to_have_url(re.compile(r"/signin$"))
            sign_in(page, stack, stack.token("brand-b", sub="manager-bob"))
            expect(page.locator("#server-id")).to_have_text("srv-b")
            assert "srv-a" not in page.content()
            page.click("nav >> text=Extraction")
            expect(page.locator("#jobs")).to_contain_text("No extraction yet.")
            expect(page.locator("#bot-status")).to_have_text("No bot connected.")
            page.click("nav >> text=Partner Portal")
            expect(page.locator("#audit")).not_to_contain_text("manager-alice")
        finally:
            ctx.close()
