// ABBA through two std::sync::Mutex (futex words in Rust's std): main joins
// "left", so every thread waits forever and `parkwatch run` must stop the
// process.
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

fn wait_stage(stage: &AtomicU32, want: u32) {
    while stage.load(Ordering::Acquire) < want {
        thread::sleep(Duration::from_millis(1));
    }
}

fn take_both(first: &Mutex<u32>, second: &Mutex<u32>, stage: &AtomicU32, mine: u32) {
    wait_stage(stage, mine - 1);
    let _a = first.lock().unwrap();
    stage.store(mine, Ordering::Release);
    wait_stage(stage, 2);
    let _b = second.lock().unwrap();
}

fn main() {
    let a = Arc::new(Mutex::new(0u32));
    let b = Arc::new(Mutex::new(0u32));
    let stage = Arc::new(AtomicU32::new(0));
    let (a1, b1, s1) = (a.clone(), b.clone(), stage.clone());
    let left = thread::Builder::new()
        .name("left".into())
        .spawn(move || take_both(&a1, &b1, &s1, 1))
        .unwrap();
    let (a2, b2, s2) = (a.clone(), b.clone(), stage.clone());
    thread::Builder::new()
        .name("right".into())
        .spawn(move || take_both(&b2, &a2, &s2, 2))
        .unwrap();
    left.join().unwrap();
    std::process::exit(1); // unreachable
}
