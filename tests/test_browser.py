"""The page in a real browser: headless Chromium (Debian's, through its chromedriver;
nothing is downloaded) plays IMPS by moving an on-screen fader; the /interface reaches
the log, and the model's answer reaches the page and oscdump, listening as the synth.
Bound beyond 127.0.0.1, the page needs the token IMPS printed. The library page collates
logs, trains a tiny model and plays it at once, and takes an upload of another dimension
and gives the command that plays it.
Screenshots of the play and watch views and of the library page are taken each run;
IMPS_WEB_SCREENSHOTS=docs/images keeps them there (the README's), otherwise they go to
the test's own folder and the tree stays clean."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import time

import pytest

from conftest import ROOT, skip_or_fail
from harness import ServerProcess, free_udp_port
from harness.web import free_tcp_port

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
SCREENSHOTS = "IMPS_WEB_SCREENSHOTS"  # a folder (relative to the project) for the screenshots
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
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    # The library's lists are drawn anew after each change: an element found a moment ago
    # may have been replaced, and the condition simply looks again.
    return WebDriverWait(driver, timeout, ignored_exceptions=(StaleElementReferenceException,)).until(condition)


def test_a_fader_plays_imps_and_its_answer_reaches_the_page_and_the_synth(browser, oscdump, in_tmp_dir):
    pictures = ROOT / os.environ[SCREENSHOTS] if SCREENSHOTS in os.environ else in_tmp_dir
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
        browser.save_screenshot(str(pictures / "web-play.png"))
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
        browser.save_screenshot(str(pictures / "web-watch.png"))
    finally:
        assert server.stop() == 0, server.output
    log = next((in_tmp_dir / "logs").glob("*.log")).read_text()
    assert ",interface,0.501,0.5,0.5,0.5\n" in log and ",rnn," in log  # one step up of the first fader
    assert "Traceback" not in server.output
    assert (pictures / "web-play.png").stat().st_size and (pictures / "web-watch.png").stat().st_size


def test_bound_beyond_loopback_the_page_needs_the_printed_token(browser, in_tmp_dir):
    from selenium.webdriver.common.action_chains import ActionChains
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
        # Two controls: an XY pad, played with a click (a tap on a phone).
        pad = browser.find_element(By.CSS_SELECTOR, "#you .pad")
        ActionChains(browser).move_to_element_with_offset(pad, 20, -20).click().perform()
        wait_for(browser, lambda d: "1 from you" in d.find_element(By.ID, "state").get_attribute("textContent"))
    finally:
        assert server.stop() == 0, server.output


def test_the_library_page_collates_trains_uploads_and_plays_a_model_now_or_gives_its_command(browser, in_tmp_dir):
    """Issue 23 §3, through the page as a musician uses it: logs collated into a dataset, a
    tiny model trained with its progress shown, then played at once by the running
    performance; a weights file of another dimension uploaded and kept under IMPS's own
    name, and the command the page gives for it starts a server that plays it."""
    pictures = ROOT / os.environ[SCREENSHOTS] if SCREENSHOTS in os.environ else in_tmp_dir
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    from harness import Stage, message
    from imps.learn.corpus import make_corpus

    logs = make_corpus(in_tmp_dir / "logs", 3, 4, 1.0, seed=2)

    def text(element_id):
        return lambda driver: driver.find_element(By.ID, element_id).text

    port = free_tcp_port()
    server = started(in_tmp_dir, "-d", "3", "--web", str(port))
    try:
        browser.get(f"http://127.0.0.1:{port}/library/")
        wait_for(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#logs input[type=checkbox]")) == len(logs))
        for box in browser.find_elements(By.CSS_SELECTOR, "#logs input[type=checkbox]"):
            box.click()
        browser.find_element(By.ID, "collate").click()
        wait_for(browser, lambda d: "wrote datasets/training-dataset-3d.npz" in text("collated")(d), 60)
        wait_for(browser, lambda d: "training-dataset-3d.npz" in text("datasets")(d))
        assert (in_tmp_dir / "datasets" / "training-dataset-3d.npz").stat().st_size

        # The smallest run the page offers: size xxs, one epoch, no warm-up.
        form = browser.find_element(By.ID, "train")
        assert Select(form.find_element(By.NAME, "dataset")).first_selected_option.text == "training-dataset-3d.npz"
        assert form.find_element(By.NAME, "dimension").get_attribute("value") == "3"  # from the dataset's name
        Select(form.find_element(By.NAME, "size")).select_by_visible_text("xxs")
        form.find_element(By.NAME, "epochs").send_keys("1")
        form.find_element(By.NAME, "warmup").send_keys("0")
        form.find_element(By.CSS_SELECTOR, "button:not([type])").click()
        wait_for(browser, lambda d: "training size xxs" in text("progress")(d), 120)
        wait_for(browser, lambda d: "val_loss" in text("progress")(d), 300)  # Keras's line for the epoch
        wait_for(browser, lambda d: text("message")(d).startswith("training ended"), 600)
        assert text("message")(browser) == "training ended (exit 0)", text("progress")(browser)
        trained = "musicMDRNN-dim3-layers2-units16-mixtures5-scale10.weights.h5"
        wait_for(browser, lambda d: trained in text("models")(d))
        assert (in_tmp_dir / "models" / trained).stat().st_size

        # An original IMPS .h5, uploaded through the file input, is kept under IMPS's own name.
        upload = ROOT / "tests" / "fixtures" / "musicMDRNN-dim2-layers2-units32-mixtures5-scale10.h5"
        browser.find_element(By.ID, "upload").send_keys(str(upload))
        wait_for(browser, lambda d: text("message")(d).startswith("kept as"), 60)
        kept = text("message")(browser).removeprefix("kept as ")
        assert kept == "musicMDRNN-dim2-layers2-units32-mixtures5-scale10.weights.h5", kept
        assert (in_tmp_dir / "models" / kept).is_file()
        def play_now(name: str, shape: str):
            def press(driver) -> bool:
                """Press the model's "play now", in the table as it is drawn now."""
                row = next((r for r in driver.find_elements(By.CSS_SELECTOR, "#models tbody tr")
                            if r.find_element(By.TAG_NAME, "td").text == name), None)
                if row is None:
                    return False
                assert shape in row.text
                row.find_element(By.XPATH, ".//button[text()='play now']").click()
                return True
            return press

        # The trained model (3-d, as this performance) plays at once, with its report's figures listed.
        def figures_listed(driver) -> bool:
            row = next(r.text for r in driver.find_elements(By.CSS_SELECTOR, "#models tbody tr")
                       if r.find_element(By.TAG_NAME, "td").text == trained)
            return re.search(r"-?\d+\.\d{4}\s+solo \d+\.\d\d", row) is not None  # held-out loss, style distance

        wait_for(browser, figures_listed)
        wait_for(browser, play_now(trained, "2 layers of 16 units"))
        wait_for(browser, lambda d: text("played")(d).startswith(f"now playing models/{trained}, from a fresh start"))
        assert server.wait_until(lambda: any(line.startswith(f"now playing models/{trained}") for line in server.lines),
                                 30), server.output
        # The upload is 2-d: it cannot play here, and the page gives the command that plays it.
        wait_for(browser, play_now(kept, "2 layers of 32 units"))
        wait_for(browser, lambda d: "is a 2-d model and this performance plays 3-d events" in text("played")(d))
        wait_for(browser, lambda d: text("command")(d).startswith("python "))
        command = text("command")(browser)
        assert command == f"python predictive_music_model.py --dimension=2 --modelfile=models/{kept}", command
        height = browser.execute_script("return document.documentElement.scrollHeight")
        browser.set_window_size(1000, min(height + 120, 3000))
        browser.save_screenshot(str(pictures / "web-library.png"))
    finally:
        assert server.stop() == 0, server.output
    assert "Traceback" not in server.output, server.output
    assert (pictures / "web-library.png").stat().st_size

    # Play it: the page's command (its flags, with ports of this test's) starts a server
    # that answers the musician's /interface with the uploaded model's /prediction.
    flags = shlex.split(command)[2:]
    stage = Stage(in_tmp_dir, *flags, "--polyphony", dimension=2)
    try:
        assert f"models/{kept}" in stage.output, stage.output
        stage.synth.settimeout(5)
        answer = b""
        for step in range(20):
            stage.send(message("/interface", ("f", step / 20)))
            try:
                answer = stage.synth.recv(65536)
                break
            except OSError:  # socket.timeout: no answer yet, under load
                continue
        assert answer.startswith(b"/prediction\x00"), stage.output
    finally:
        assert stage.stop() == 0, stage.output
