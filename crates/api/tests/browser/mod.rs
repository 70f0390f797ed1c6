//! Debian's `chromium`, headless, driven through `chromedriver` (WebDriver)
//! with fantoccini: shared by the console's browser tests and the
//! console's page-load benchmark (`cargo xtask bench console`).

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client as Browser, ClientBuilder};
use serde_json::{json, Value};

/// `chromedriver` on a free port, stopped when dropped.
pub struct Driver {
    child: Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub async fn browser() -> (Browser, Driver) {
    let port = free_port();
    let child = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect(
            "chromedriver is not installed: `apt-get install chromium chromium-driver` \
             (.ci/run installs them)",
        );
    let driver = Driver { child, port };
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", driver.port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "chromedriver did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--window-size=1440,1000"]
        }),
    );
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("a chromium session (is the chromium package installed?)");
    (client, driver)
}

/// Server time (request start to response start) and first contentful
/// paint of the page just loaded, in milliseconds, as the browser measured
/// them.
pub async fn load_times(b: &Browser) -> (f64, f64) {
    // The paint entry is recorded shortly after the load event: wait for
    // it (at most 5 s).
    let started = Instant::now();
    loop {
        let v: Value = b
            .execute(
                "const n = performance.getEntriesByType('navigation')[0];
                 const p = performance.getEntriesByName('first-contentful-paint')[0];
                 return [n.responseStart - n.requestStart, p ? p.startTime : -1];",
                vec![],
            )
            .await
            .unwrap();
        let times = (v[0].as_f64().unwrap_or(-1.0), v[1].as_f64().unwrap_or(-1.0));
        if times.1 >= 0.0 || started.elapsed() > Duration::from_secs(5) {
            return times;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
