//! `--dash-conf FILE` and repeatable `--chain-param KEY=VALUE`: the chain parameters of a
//! network as Dash Core names them (`docs/CONFORMANCE.md`), shared by `demo` and `verify`.

use dash_qrsync::network::conf::{split_pair, DashConf};
use dash_qrsync::network::{ChainParams, Network};
use std::path::PathBuf;

/// The chain-parameter options given on the command line.
#[derive(Debug, Clone, Default)]
pub struct ChainArgs {
    dash_conf: Option<PathBuf>,
    params: Vec<(String, String)>,
}

impl ChainArgs {
    /// Consumes `flag` if it is one of ours (reading its value with `value`); `Ok(false)` when
    /// the flag is someone else's.
    pub fn take(
        &mut self,
        flag: &str,
        value: &mut dyn FnMut(&str) -> Result<String, String>,
    ) -> Result<bool, String> {
        match flag {
            "--dash-conf" => {
                if self
                    .dash_conf
                    .replace(PathBuf::from(value(flag)?))
                    .is_some()
                {
                    return Err("--dash-conf may be given once".into());
                }
            }
            "--chain-param" => {
                let v = value(flag)?;
                let (k, val) = split_pair(&v).map_err(|e| format!("--chain-param: {e}"))?;
                self.params.push((k.to_string(), val.to_string()));
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The network the `dash.conf` selects, if one was given.
    pub fn conf_network(&self) -> Result<Option<Network>, String> {
        Ok(self.read_conf()?.map(|c| c.params.network()))
    }

    fn read_conf(&self) -> Result<Option<DashConf>, String> {
        self.dash_conf
            .as_ref()
            .map(|p| DashConf::read(p).map_err(|e| format!("--dash-conf {}: {e}", p.display())))
            .transpose()
    }

    /// The parameters: the `dash.conf`'s (it must be for `network` when one is given), else
    /// Core's defaults for `network`; then every `--chain-param`, in order; checked as a whole.
    pub fn build(&self, network: Network) -> Result<ChainParams, String> {
        self.build_on(ChainParams::new(network))
    }

    /// As [`ChainArgs::build`], starting from `base` when no `dash.conf` is given.
    pub fn build_on(&self, base: ChainParams) -> Result<ChainParams, String> {
        let mut p = match self.read_conf()? {
            Some(c) if c.params.network() != base.network() => {
                return Err(format!(
                    "--dash-conf selects {}, but the network is {}",
                    c.params.network(),
                    base.network()
                ))
            }
            Some(c) => c.params,
            None => base,
        };
        for (k, v) in &self.params {
            p.set(k, v)
                .map_err(|e| format!("--chain-param {k}={v}: {e}"))?;
        }
        p.validate().map_err(|e| e.to_string())?;
        Ok(p)
    }
}
