//! Reading a Dash Core `dash.conf` for its chain parameters.
//!
//! The file's network is chosen as Core chooses it (`regtest=1`, `testnet=1`, `devnet=NAME` or
//! `chain=…`; mainnet otherwise). Every chain-parameter option of that network is applied, from
//! the top of the file and from the network's section (`[main]`, `[test]`, `[regtest]`,
//! `[devnet]`), in file order; everything else (ports, RPC, wallet, logging…) does not concern a
//! light client and is listed in [`DashConf::ignored`].
//!
//! ```
//! use dash_qrsync::network::{conf::DashConf, Network};
//!
//! let conf = DashConf::parse("regtest=1\nport=19911\n[regtest]\ndip3params=2:2\ntestactivationheight=v20@100\ntestactivationheight=mn_rr@100\n").unwrap();
//! assert_eq!(conf.params.network(), Network::Regtest);
//! assert_eq!(conf.params.activations().v20, 100);
//! assert_eq!(conf.ignored, vec!["port".to_string()]);
//! ```

use super::params::{ChainParams, ParamError, KEYS};
use super::Network;

/// Largest `dash.conf` read (Core's own files are a few KiB).
pub const MAX_CONF_BYTES: usize = 1 << 20;

/// The chain parameters a `dash.conf` describes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DashConf {
    /// The parameters, validated.
    pub params: ChainParams,
    /// Keys present in the file that do not concern a light client (each once, in file order).
    pub ignored: Vec<String>,
}

struct Line<'a> {
    number: usize,
    section: Option<&'a str>,
    key: &'a str,
    value: &'a str,
}

fn section_of(network: Network) -> &'static str {
    match network {
        Network::Mainnet => "main",
        Network::Testnet => "test",
        Network::Devnet => "devnet",
        Network::Regtest => "regtest",
    }
}

fn lines(text: &str) -> Result<Vec<Line<'_>>, ParamError> {
    let mut out = Vec::new();
    let mut section: Option<&str> = None;
    for (i, raw) in text.lines().enumerate() {
        let number = i + 1;
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix('[') {
            let name = rest.strip_suffix(']').ok_or_else(|| ParamError::Conf {
                line: number,
                message: format!("unterminated section header {line:?}"),
            })?;
            section = Some(name.trim());
            continue;
        }
        let (key, value) = match line.split_once('=') {
            Some((k, v)) => (k.trim(), v.trim()),
            // Core reads a bare `key` as `key=1`.
            None => (line, "1"),
        };
        if key.is_empty() {
            return Err(ParamError::Conf {
                line: number,
                message: format!("no option name in {line:?}"),
            });
        }
        // `regtest.key=value` is the same as `key=value` in `[regtest]`.
        let (section, key) = match key.split_once('.') {
            Some((s, k)) => (Some(s), k),
            None => (section, key),
        };
        out.push(Line {
            number,
            section,
            key,
            value,
        });
    }
    Ok(out)
}

impl DashConf {
    /// Reads the chain parameters from the text of a `dash.conf`.
    pub fn parse(text: &str) -> Result<DashConf, ParamError> {
        if text.len() > MAX_CONF_BYTES {
            return Err(ParamError::Conf {
                line: 0,
                message: format!(
                    "the file is {} bytes; a dash.conf is at most {MAX_CONF_BYTES}",
                    text.len()
                ),
            });
        }
        let lines = lines(text)?;
        // The network: selectors at the top level (Core reads them before any section applies).
        let mut network = Network::Mainnet;
        let mut chosen: Option<(usize, &str)> = None;
        for l in lines.iter().filter(|l| l.section.is_none()) {
            let n = match (l.key, l.value) {
                ("regtest", "1") => Some(Network::Regtest),
                ("testnet", "1") => Some(Network::Testnet),
                ("devnet", v) if !v.is_empty() && v != "0" => Some(Network::Devnet),
                ("chain", "main") => Some(Network::Mainnet),
                ("chain", "test") => Some(Network::Testnet),
                ("chain", "regtest") => Some(Network::Regtest),
                ("chain", "devnet") => Some(Network::Devnet),
                ("chain", v) => {
                    return Err(ParamError::Conf {
                        line: l.number,
                        message: format!("chain={v}: expected main, test, devnet or regtest"),
                    })
                }
                _ => None,
            };
            if let Some(n) = n {
                if let Some((first, key)) = chosen.filter(|_| n != network) {
                    return Err(ParamError::Conf {
                        line: l.number,
                        message: format!(
                            "{}={} selects {n}, but line {first} ({key}) already selected {network}",
                            l.key, l.value
                        ),
                    });
                }
                network = n;
                chosen = Some((l.number, l.key));
            }
        }
        let mut params = ChainParams::new(network);
        let mut ignored: Vec<String> = Vec::new();
        let own = section_of(network);
        for l in &lines {
            if l.section.is_some_and(|s| s != own) {
                continue;
            }
            let known = KEYS.iter().any(|k| k.key == l.key);
            if !known {
                if !ignored.iter().any(|k| k == l.key) {
                    ignored.push(l.key.to_string());
                }
                continue;
            }
            if matches!(l.key, "regtest" | "testnet" | "chain") {
                continue;
            }
            params.set(l.key, l.value).map_err(|e| ParamError::Conf {
                line: l.number,
                message: e.to_string(),
            })?;
        }
        params.validate()?;
        Ok(DashConf { params, ignored })
    }

    /// Reads a `dash.conf` file (at most [`MAX_CONF_BYTES`]).
    pub fn read(path: &std::path::Path) -> Result<DashConf, ParamError> {
        use std::io::Read;
        let f = std::fs::File::open(path).map_err(|e| ParamError::Conf {
            line: 0,
            message: format!("cannot open {}: {e}", path.display()),
        })?;
        let mut text = String::new();
        f.take(MAX_CONF_BYTES as u64 + 1)
            .read_to_string(&mut text)
            .map_err(|e| ParamError::Conf {
                line: 0,
                message: format!("cannot read {}: {e}", path.display()),
            })?;
        DashConf::parse(&text)
    }
}

/// Splits a `KEY=VALUE` argument (as given to `--chain-param`).
pub fn split_pair(arg: &str) -> Result<(&str, &str), ParamError> {
    match arg.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim(), v.trim())),
        _ => Err(ParamError::BadValue {
            key: arg.to_string(),
            value: String::new(),
            expected: "KEY=VALUE",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_and_selectors() {
        let text = "# comment\nregtest=1\nserver=1\n[main]\ntestactivationheight=v20@5\n[regtest]\nport=1\ndip3params=2:2 # trailing\ntestactivationheight=v20@100\nregtest.testactivationheight=mn_rr@100\n[test]\nllmqtestparams=9:9\n";
        let c = DashConf::parse(text).unwrap();
        assert_eq!(c.params.network(), Network::Regtest);
        let a = c.params.activations();
        assert_eq!((a.dip0003, a.v20, a.mn_rr), (2, 100, 100));
        assert_eq!(c.params.llmq().params(100).unwrap().size, 3);
        assert_eq!(c.ignored, vec!["server".to_string(), "port".to_string()]);
    }

    #[test]
    fn plain_files() {
        assert_eq!(
            DashConf::parse("").unwrap().params.network(),
            Network::Mainnet
        );
        assert_eq!(
            DashConf::parse("testnet=1").unwrap().params.network(),
            Network::Testnet
        );
        let d = DashConf::parse("devnet=alpha\n[devnet]\nllmqchainlocks=llmq_400_60\n").unwrap();
        assert_eq!(d.params.network(), Network::Devnet);
        assert_eq!(d.params.devnet_name(), Some("alpha"));
        assert_eq!(d.params.llmq().chainlocks, 2);
        assert_eq!(
            DashConf::parse("chain=regtest").unwrap().params.network(),
            Network::Regtest
        );
    }

    #[test]
    fn errors_name_the_line() {
        let e = DashConf::parse("regtest=1\n[regtest]\ntestactivationheight=v99@1\n").unwrap_err();
        assert!(e.to_string().starts_with("dash.conf line 3:"), "{e}");
        assert!(e.to_string().contains("testactivationheight"), "{e}");
        let e = DashConf::parse("regtest=1\ntestnet=1\n").unwrap_err();
        assert!(e.to_string().contains("line 2"), "{e}");
        let e = DashConf::parse("[regtest\n").unwrap_err();
        assert!(e.to_string().contains("unterminated"), "{e}");
        let e = DashConf::parse("chain=moon").unwrap_err();
        assert!(e.to_string().contains("chain=moon"), "{e}");
        // A regtest-only option in a mainnet file.
        let e = DashConf::parse("dip3params=2:2").unwrap_err();
        assert!(e.to_string().contains("regtest-only"), "{e}");
        // Inconsistent as a whole.
        let e =
            DashConf::parse("regtest=1\n[regtest]\ntestactivationheight=v20@100\n").unwrap_err();
        assert!(matches!(e, ParamError::Inconsistent(_)), "{e}");
        assert!(
            split_pair("a=b").is_ok() && split_pair("=b").is_err() && split_pair("ab").is_err()
        );
    }
}
