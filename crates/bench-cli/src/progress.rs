//! Progress: a bar on a terminal, plain log lines otherwise.

use std::io::IsTerminal;

use bench_eval::Step;
use indicatif::{ProgressBar, ProgressStyle};

pub struct Reporter {
    bar: Option<ProgressBar>,
    model: String,
    last: String,
}

impl Reporter {
    pub fn new(total: usize, model: &str) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(total as u64);
            bar.set_style(
                ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg} ETA {eta}")
                    .expect("the template is valid")
                    .progress_chars("=> "),
            );
            bar.set_prefix(model.to_string());
            bar
        });
        Self { bar, model: model.into(), last: String::new() }
    }

    pub fn step(&mut self, step: Step<'_>) {
        let p = match step {
            Step::Task(p) => p,
            Step::Batch(b) => {
                // A batch is polled: one line each time its status changes.
                let line = format!("{}: batch {} {} ({}/{} done)", self.model, b.id, b.status, b.done, b.total);
                if line != self.last {
                    eprintln!("{line}");
                    self.last = line;
                }
                return;
            }
        };
        let tps = p.tokens_per_second.map_or("-".to_string(), |t| format!("{t:.1} tok/s"));
        match &self.bar {
            Some(bar) => {
                bar.set_position(p.done as u64);
                bar.set_message(tps);
            }
            None => eprintln!("{} {}/{} task {} {} {}", self.model, p.done, p.total, p.task_id, p.finish_reason, tps),
        }
    }

    pub fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}
