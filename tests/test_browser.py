"""The page in a real browser: headless Chromium (Debian's, through its chromedriver;
nothing is downloaded) plays IMPS by moving an on-screen fader; the /interface reaches
the log, and the model's answer reaches the page and oscdump, listening as the synth.
Bound beyond 127.0.0.1, the page needs the token IMPS printed. Screenshots of the play
and watch views go to docs/images/."""

from __future__ import annotations

import re
import shutil
import subprocess
import time

import pytest

from conftest import ROOT, skip_or_fail
from harness import ServerProcess, free_udp_port
from harness.web import free_tcp_port

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
WAIT = 20.0

pytestmark = [pytest.mark.slow, pytest.mark.peers("oscdump")]


@pytest.fixture
def browser():
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        skip_or_fail("needs chromium and chromedriver, from the Debian packages chromium and chromium-driver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--window-size=1000,900", "--autoplay-policy=no-user-gesture-required"):
        options.add_argument(flag)
    # The system's driver, named: Selenium's manager never runs, so nothing is downloaded.
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


@pytest.fixture
def oscdump():
    port = free_udp_port()
    dump = subprocess.Popen(["oscdump", "-L", str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    yield port, dump
    dump.kill()
    dump.wait()


def started(folder, *flags: str) -> ServerProcess:
    server = ServerProcess(*flags, "--nokeys", "--serverport", str(free_udp_port()), cwd=folder)
    assert server.wait_ready(60), server.output
    return server


def wait_for(driver, condition, timeout: float = WAIT):
    from selenium.webdriver.support.ui import WebDriverWait
    return WebDriverWait(driver, timeout).until(condition)


def test_a_fader_plays_imps_and_its_answer_reaches_the_page_and_the_synth(browser, oscdump, in_tmp_dir):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    synth_port, dump = oscdump
    port = free_tcp_port()
    server = started(in_tmp_dir, "-d", "5", "--polyphony", "--log", "--clientport", str(synth_port),
                     "--web", str(port))
    try:
        browser.get(f"http://127.0.0.1:{port}/")
        fader = wait_for(browser, lambda d: d.find_element(By.CSS_SELECTOR, "#you input[data-index='0']"))
        wait_for(browser, lambda d: d.find_element(By.ID, "link").text.startswith("polyphony"))
        for _ in range(25):
            fader.send_keys(Keys.ARROW_UP)  # each step is an input event: one /interface
        wait_for(browser, lambda d: int(d.find_element(By.ID, "predictions").text) >= 5)
        heights = [bar.get_attribute("style") for bar in browser.find_elements(By.CSS_SELECTOR, "#model .bar div")]
        assert len(heights) == 4 and all(re.search(r"height: [\d.]+%", h) for h in heights)
        first_line = dump.stdout.readline()
        assert "/prediction ffff" in first_line, first_line  # after oscdump's time tag
        browser.find_element(By.CSS_SELECTOR, ".tab[data-view='play']").click()
        browser.save_screenshot(str(ROOT / "docs" / "images" / "web-play.png"))
        # A gesture at a musician's pace across all four faders, for the watch view's lanes:
        # each value set as a drag sets it, with the input event the page listens for.
        for step in range(80):
            browser.execute_script(
                "document.querySelectorAll('#you input').forEach((f, i) => {"
                " f.value = 0.5 + 0.4 * Math.sin(arguments[0] / 8 + i);"
                " f.dispatchEvent(new Event('input')); });", step)
            time.sleep(0.03)
        browser.find_element(By.CSS_SELECTOR, ".tab[data-view='watch']").click()
        wait_for(browser, lambda d: "from you" in d.find_element(By.ID, "state").text)
        browser.save_screenshot(str(ROOT / "docs" / "images" / "web-watch.png"))
    finally:
        assert server.stop() == 0, server.output
    log = next((in_tmp_dir / "logs").glob("*.log")).read_text()
    assert ",interface,0.501,0.5,0.5,0.5\n" in log and ",rnn," in log  # one step up of the first fader
    assert "Traceback" not in server.output


def test_bound_beyond_loopback_the_page_needs_the_printed_token(browser, in_tmp_dir):
    from selenium.webdriver.common.by import By

    port = free_tcp_port()
    server = started(in_tmp_dir, "-d", "3", "--web", f"0.0.0.0:{port}")
    try:
        url = re.search(r"web page: (http://\S+)", server.output).group(1)
        token = re.search(r"\?token=(\S+)$", url).group(1)
        browser.get(f"http://127.0.0.1:{port}/")
        assert "token is needed" in browser.find_element(By.TAG_NAME, "body").text
        browser.get(f"http://127.0.0.1:{port}/?token=wrong")
        assert "token is needed" in browser.find_element(By.TAG_NAME, "body").text
        browser.get(f"http://127.0.0.1:{port}/?token={token}")
        wait_for(browser, lambda d: d.find_element(By.ID, "link").text.startswith("callresponse"))
        browser.get(f"http://127.0.0.1:{port}/")  # the cookie is enough from now on
        wait_for(browser, lambda d: d.find_element(By.ID, "link").text.startswith("callresponse"))
        assert not browser.execute_script("return document.cookie")  # HttpOnly: scripts cannot read it
    finally:
        assert server.stop() == 0, server.output
