//! The JavaScript surface of shared/api.md: `connect`, `createClient`,
//! `Client`, `MqttError`. The only layer that knows JavaScript values: it
//! turns calls into driver commands and driver notifications into promise
//! settlements and listener calls.

mod convert;
mod error;
mod options;
mod tables;

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::{Rc, Weak};

use js_sys::{Array, Function, Promise};
use wasm_bindgen::prelude::*;

use crate::client::driver::{Driver, Notification};
use crate::client::{ClientError, ErrorCode, Persistence};
use crate::codec::{Properties, Publish, QoS, RetainHandling, Subscription, SubscriptionOptions};
use crate::session::{Message, PersistOp, Session, SessionState};
use crate::store::indexeddb::{database_name, IndexedDbStore};
use crate::store::journal::{IncomingJournal, OutgoingJournal};
use crate::store::record::state_name;
use crate::store::StoreError;

use convert::{request_properties, Request};
use error::{error, rejected, to_js};
use tables::{Pending, TopicCache};

#[wasm_bindgen(module = "/src/js/support.js")]
extern "C" {
    /// Promise `id`, made after the call that may settle it: settled
    /// already if `promise_settle(id, ..)` came first.
    #[wasm_bindgen(js_name = promiseNew)]
    fn promise_new(id: u32) -> Promise;
    #[wasm_bindgen(js_name = promiseSettle)]
    fn promise_settle(id: u32, how: u8, value: &JsValue);
    /// One `outbox()` entry (one call instead of a property set per field).
    #[wasm_bindgen(js_name = outboxEntry)]
    #[allow(clippy::too_many_arguments)]
    fn outbox_entry(
        id: f64,
        topic: &str,
        qos: u8,
        retain: bool,
        packet_id: u16,
        state: &JsValue,
        attempts: u32,
        created_at: f64,
    ) -> JsValue;
}

thread_local! {
    /// The id of the last promise made (ids name promises in support.js).
    static LAST_PROMISE: Cell<u32> = const { Cell::new(0) };
}

/// The right to settle one promise. Dropping it unsettled leaves the
/// promise pending (and frees its entry in the JS table).
struct Settle {
    id: u32,
}

impl Settle {
    fn resolve(self, value: &JsValue) {
        self.finish(0, value);
    }
    fn reject(self, value: &JsValue) {
        self.finish(1, value);
    }
    fn finish(self, how: u8, value: &JsValue) {
        promise_settle(self.id, how, value);
        std::mem::forget(self);
    }
}

impl Drop for Settle {
    fn drop(&mut self) {
        promise_settle(self.id, 2, &JsValue::UNDEFINED);
    }
}

/// Runs `call` with the right to settle a new promise, then makes that
/// promise, so that a call settled before it returns (a QoS 0 publish sent
/// at once) gets a settled promise and leaves no pending one or table entry
/// in JS. An error from `call` is returned instead of the promise.
fn promised(call: impl FnOnce(Settle) -> Result<(), JsValue>) -> Result<Promise, JsValue> {
    let id = LAST_PROMISE.with(|last| {
        let id = last.get().wrapping_add(1);
        last.set(id);
        id
    });
    let result = call(Settle { id });
    // Made even on an error, to free what the call settled.
    let promise = promise_new(id);
    result.map(|()| promise)
}

/// The JavaScript-facing state of one client.
/// An application call: run at once, or kept while the store loads.
enum Deferred {
    Publish(Message, Settle),
    Subscribe(Vec<Subscription>, Properties, Settle),
    Unsubscribe(Vec<String>, Properties, Settle),
    End(bool),
}

#[wasm_bindgen(module = "/src/js/support.js")]
extern "C" {
    #[wasm_bindgen(js_name = acquireLock)]
    fn acquire_lock(name: &str, wait: bool, done: JsValue);
    /// Adds or removes `f` for `event` in `map`; returns which events have
    /// listeners now (bit `Event as u8`).
    fn listen(map: &JsValue, event: &JsValue, f: &JsValue, add: bool) -> u32;
    /// Calls the listeners of event `code` (an [`Event`]) with the first `n`
    /// of `a`, `b`, `c`.
    #[wasm_bindgen(js_name = emit)]
    fn emit_js(map: &JsValue, code: u8, n: u8, a: &JsValue, b: &JsValue, c: &JsValue);
    /// Calls the `message` listeners with `topic`, a copy of the payload at
    /// `at` (`len` bytes) and the packet object (`bits`: qos | retain << 2
    /// | dup << 3; `props`: a property block or undefined).
    #[wasm_bindgen(js_name = emitMessage)]
    fn emit_message(map: &JsValue, topic: &JsValue, at: u32, len: u32, bits: u8, props: &JsValue);
    /// `publish()`'s arguments, read in one call (see support.js): flags,
    /// topic and payload lengths packed; -1 for a bad argument (its
    /// `MqttError` from `arg_error`).
    #[wasm_bindgen(js_name = publishArgs)]
    fn publish_args(topic: &JsValue, payload: &JsValue, options: &JsValue, max_packet: u32) -> f64;
    /// The `MqttError` of the last `publishArgs` that returned -1.
    #[wasm_bindgen(js_name = argError)]
    fn arg_error() -> JsValue;
    /// Copies the topic and payload the last `publishArgs` read to `topic_at`
    /// and `payload_at`, which have room for the lengths it returned.
    #[wasm_bindgen(js_name = takePublish)]
    fn take_publish(topic_at: u32, payload_at: u32);
    /// `subscribe()`'s options: qos | nl << 2 | rap << 3 | rh << 4; throws
    /// an `MqttError` for a bad qos or rh.
    #[wasm_bindgen(js_name = subscribeOptions, catch)]
    fn subscribe_options(options: &JsValue) -> Result<u8, JsValue>;
}

/// The events `emit` knows, by their index in support.js's `EVENTS`.
#[derive(Clone, Copy)]
enum Event {
    Connect,
    Reconnect,
    Offline,
    Close,
    Error,
    End,
    /// Emitted by support.js's `emitMessage`.
    Message,
    Delivered,
}

struct Shared {
    /// `None` while the durable store is being opened and read.
    driver: RefCell<Option<Rc<Driver>>>,
    /// Calls made before the driver existed, replayed in order.
    deferred: RefCell<Vec<Deferred>>,
    /// Releases the Web Lock on the session, once the client ends.
    release_lock: RefCell<Option<Function>>,
    me: Weak<Shared>,
    /// Listener lists per event name (a JS `Map`, see support.js): kept on
    /// the JS side, emitting costs one call and no event-name string.
    listeners: JsValue,
    /// Which events have listeners (see `listen`).
    listening: Cell<u32>,
    /// JS strings of recently received topics.
    topics: RefCell<TopicCache>,
    publishes: RefCell<Pending<Settle>>,
    requests: RefCell<Pending<Settle>>,
    /// QoS 0 publishes done but waiting for the socket to drain.
    drain_waiters: RefCell<Vec<Settle>>,
    /// Messages that arrived while no `message` listener was attached.
    held: RefCell<VecDeque<Publish>>,
    max_held: usize,
    /// The largest packet a publish may make, in bytes: the `maxPacketSize`
    /// option, lowered to the broker's limit by each CONNACK that has one.
    /// Kept here, read without the driver: every publish checks it.
    max_packet: Cell<u32>,
    /// `connect()`'s promise, settled by the first CONNACK or failure.
    connecting: RefCell<Option<Settle>>,
    /// Keeps a running client alive without any reference from JavaScript,
    /// as an open socket is; cleared when it ends.
    running: RefCell<Option<Rc<Shared>>>,
}

impl Shared {
    fn driver(&self) -> Option<Rc<Driver>> {
        self.driver.borrow().clone()
    }

    fn end_cleanup(&self) {
        self.running.borrow_mut().take();
        if let Some(release) = self.release_lock.borrow_mut().take() {
            let _ = release.call0(&JsValue::UNDEFINED);
        }
    }

    /// The client cannot start (store or lock failure): settle everything.
    fn fail_start(&self, e: &ClientError) {
        let err = to_js(e);
        let deferred = std::mem::take(&mut *self.deferred.borrow_mut());
        for d in deferred {
            match d {
                Deferred::Publish(_, s)
                | Deferred::Subscribe(_, _, s)
                | Deferred::Unsubscribe(_, _, s) => s.reject(&err),
                Deferred::End(_) => {}
            }
        }
        let connecting = self.connecting.borrow_mut().take();
        match connecting {
            Some(s) => s.reject(&err),
            None => {
                self.emit(Event::Error, &[err]);
                self.emit(Event::End, &[]);
            }
        }
        self.end_cleanup();
    }

    /// Calls the listeners of `event` with `args` (at most three).
    fn emit(&self, event: Event, args: &[JsValue]) {
        if !self.listens(event) {
            return;
        }
        let none = JsValue::UNDEFINED;
        let arg = |i: usize| args.get(i).unwrap_or(&none);
        let n = args.len() as u8;
        emit_js(&self.listeners, event as u8, n, arg(0), arg(1), arg(2));
    }

    fn listens(&self, event: Event) -> bool {
        self.listening.get() & 1 << event as u8 != 0
    }

    fn has_message_listener(&self) -> bool {
        self.listens(Event::Message)
    }

    fn deliver_message(&self, p: &Publish) {
        let topic = self.topics.borrow_mut().get(&p.topic);
        let bits = p.qos.as_u8() | u8::from(p.retain) << 2 | u8::from(p.dup) << 3;
        let props = convert::message_properties(p);
        // One call for the payload, the packet object and the listeners.
        emit_message(
            &self.listeners,
            &topic,
            p.payload.as_ptr() as u32,
            p.payload.len() as u32,
            bits,
            &props,
        );
    }

    fn on_notification(&self, n: Notification) {
        match n {
            Notification::Connect(ack) => {
                if let Some(driver) = self.driver() {
                    self.max_packet.set(driver.max_outgoing_packet());
                }
                let value = convert::connack_to_js(&ack);
                if let Some(s) = self.connecting.borrow_mut().take() {
                    if let Some(me) = self.me.upgrade() {
                        s.resolve(&JsValue::from(Client { shared: me }));
                    }
                }
                self.emit(Event::Connect, &[value]);
            }
            Notification::Reconnect => self.emit(Event::Reconnect, &[]),
            Notification::Offline => self.emit(Event::Offline, &[]),
            Notification::Close => self.emit(Event::Close, &[]),
            Notification::Error(e) => self.emit(Event::Error, &[to_js(&e)]),
            Notification::End => {
                let closed = error(ErrorCode::Closed, "client is ended");
                // Taken out first: settling runs JS, which may call back in.
                let publishes = self.publishes.borrow_mut().take_all();
                let requests = self.requests.borrow_mut().take_all();
                for s in publishes {
                    s.reject(&closed);
                }
                for s in requests {
                    s.reject(&closed);
                }
                let waiters = std::mem::take(&mut *self.drain_waiters.borrow_mut());
                for s in waiters {
                    s.resolve(&JsValue::UNDEFINED);
                }
                self.emit(Event::End, &[]);
                self.end_cleanup();
            }
            Notification::Message(p) => {
                if self.has_message_listener() {
                    self.deliver_message(&p);
                    // Its topic and payload were copied out to JS.
                    if let Some(d) = self.driver() {
                        d.recycle_message(p);
                    }
                } else {
                    let mut held = self.held.borrow_mut();
                    if held.len() < self.max_held {
                        held.push_back(p);
                    }
                }
            }
            Notification::PublishDone(id) => {
                // Even a number argument costs a call to make.
                if self.listens(Event::Delivered) {
                    self.emit(Event::Delivered, &[JsValue::from(id as f64)]);
                }
                let settle = self.publishes.borrow_mut().take(id);
                if let Some(s) = settle {
                    let congested = self.driver().is_some_and(|d| d.congested());
                    if congested {
                        self.drain_waiters.borrow_mut().push(s);
                        if let Some(d) = self.driver() {
                            d.watch_drain();
                        }
                    } else {
                        s.resolve(&JsValue::UNDEFINED);
                    }
                }
            }
            Notification::PublishFailed(id, e) => {
                let settle = self.publishes.borrow_mut().take(id);
                if let Some(s) = settle {
                    s.reject(&to_js(&e));
                }
            }
            Notification::Subscribed(id, codes) => {
                let settle = self.requests.borrow_mut().take(id);
                if let Some(s) = settle {
                    let a = Array::new();
                    for c in codes {
                        a.push(&JsValue::from(c));
                    }
                    s.resolve(&a);
                }
            }
            Notification::Unsubscribed(id) => {
                let settle = self.requests.borrow_mut().take(id);
                if let Some(s) = settle {
                    s.resolve(&JsValue::UNDEFINED);
                }
            }
            Notification::RequestFailed(id, e) => {
                let settle = self.requests.borrow_mut().take(id);
                if let Some(s) = settle {
                    s.reject(&to_js(&e));
                }
            }
            Notification::ConnectFailed(e) => {
                if let Some(s) = self.connecting.borrow_mut().take() {
                    s.reject(&to_js(&e));
                }
                self.end_cleanup();
            }
            Notification::StoreFailed(id, e) => {
                let settle = self.publishes.borrow_mut().take(id);
                if let Some(s) = settle {
                    s.reject(&to_js(&e));
                }
            }
            Notification::Drained => {
                let waiters = std::mem::take(&mut *self.drain_waiters.borrow_mut());
                for s in waiters {
                    s.resolve(&JsValue::UNDEFINED);
                }
            }
        }
    }
}

/// Builds a client and starts it: at once with memory persistence, after
/// taking the session lock and reading the store with IndexedDB. Errors
/// (invalid URL or options) are `MqttError`s.
fn build(
    url: &str,
    options: &JsValue,
    fail_first_connect: bool,
    connecting: Option<Settle>,
) -> Result<Rc<Shared>, JsValue> {
    options::check_url(url).map_err(|m| error(ErrorCode::InvalidUrl, m))?;
    crate::transport::share_memory();
    let parsed = options::parse(url, options, fail_first_connect)?;
    let shared = Rc::new_cyclic(|me| Shared {
        driver: RefCell::new(None),
        deferred: RefCell::new(Vec::new()),
        release_lock: RefCell::new(None),
        me: me.clone(),
        listeners: js_sys::Map::new().into(),
        listening: Cell::new(0),
        topics: RefCell::default(),
        publishes: RefCell::default(),
        requests: RefCell::default(),
        drain_waiters: RefCell::new(Vec::new()),
        held: RefCell::new(VecDeque::new()),
        max_held: parsed.max_held,
        max_packet: Cell::new(parsed.session.max_packet_size),
        connecting: RefCell::new(connecting),
        running: RefCell::new(None),
    });
    *shared.running.borrow_mut() = Some(shared.clone());
    match parsed.client.persistence {
        Persistence::Memory => {
            install_memory_driver(&shared, parsed);
            let driver = shared.driver();
            let start = move || {
                if let Some(d) = driver {
                    d.start();
                }
            };
            if fail_first_connect {
                start();
            } else {
                // After this task, so listeners attached now see every event.
                soon(start);
            }
        }
        Persistence::IndexedDb | Persistence::IndexedDbOrMemory => {
            let shared = shared.clone();
            soon(move || start_durable(shared, parsed));
        }
    }
    Ok(shared)
}

/// [`install_driver`] with memory persistence: a fresh state, no store or
/// journals.
fn install_memory_driver(shared: &Rc<Shared>, parsed: options::Parsed) {
    install_driver(
        shared,
        parsed,
        SessionState::default(),
        None,
        (None, None),
        Vec::new(),
    );
}

/// Creates the driver (with `state` and `store`) and replays deferred calls.
fn install_driver(
    shared: &Rc<Shared>,
    mut parsed: options::Parsed,
    state: SessionState,
    store: Option<(IndexedDbStore, Rc<RefCell<Weak<Driver>>>)>,
    journals: (Option<IncomingJournal>, Option<OutgoingJournal>),
    replay: Vec<PersistOp>,
) {
    let weak = Rc::downgrade(shared);
    let sink = Box::new(move |n: Notification| {
        if let Some(s) = weak.upgrade() {
            s.on_notification(n);
        }
    });
    parsed.session.durable = store.is_some();
    let session = Session::with_state(parsed.session, state);
    let (store, cell) = match store {
        Some((s, c)) => (Some(s), Some(c)),
        None => (None, None),
    };
    let driver = Driver::new(session, parsed.client, store, journals, replay, sink);
    if let Some(cell) = cell {
        *cell.borrow_mut() = Rc::downgrade(&driver);
    }
    *shared.driver.borrow_mut() = Some(driver.clone());
    let deferred = std::mem::take(&mut *shared.deferred.borrow_mut());
    for call in deferred {
        run_call(shared, &driver, call);
    }
    driver.deliver();
}

/// `publish()`'s flags (qos | retain << 2 | properties given << 3), topic
/// and payload, or the error its promise rejects with. A payload that could
/// not fit in a packet of `max_packet` bytes is refused before it is copied
/// into the wasm memory.
fn publish_arguments(
    topic: &JsValue,
    payload: &JsValue,
    opts: &JsValue,
    max_packet: u32,
) -> Result<(u8, String, Vec<u8>), JsValue> {
    let packed = publish_args(topic, payload, opts, max_packet);
    if packed < 0.0 {
        return Err(arg_error());
    }
    // Exact in an f64: 4 + 16 + 28 bits.
    let packed = packed as u64;
    let mut topic = vec![0; (packed >> 4 & 0xffff) as usize];
    let mut payload = vec![0; (packed >> 21) as usize];
    take_publish(topic.as_mut_ptr() as u32, payload.as_mut_ptr() as u32);
    // Encoded by TextEncoder: always UTF-8.
    let topic = String::from_utf8(topic).unwrap_or_default();
    Ok((packed as u8 & 15, topic, payload))
}

/// Carries out a call on the driver; refusals settle its promise.
fn run_call(shared: &Shared, driver: &Rc<Driver>, call: Deferred) {
    match call {
        Deferred::Publish(m, settle) => {
            await_outcome(&shared.publishes, driver, driver.publish(m), settle)
        }
        Deferred::Subscribe(subs, props, settle) => await_outcome(
            &shared.requests,
            driver,
            driver.subscribe(subs, props),
            settle,
        ),
        Deferred::Unsubscribe(filters, props, settle) => await_outcome(
            &shared.requests,
            driver,
            driver.unsubscribe(filters, props),
            settle,
        ),
        Deferred::End(force) => driver.end(force),
    }
}

impl Deferred {
    /// The checks that refuse a call at once, before it waits for the store.
    fn check(&self) -> Result<(), JsValue> {
        match self {
            Deferred::Publish(m, _) => crate::codec::validate_topic_name(&m.topic)
                .map_err(|e| error(ErrorCode::InvalidTopic, e.as_str())),
            Deferred::Subscribe(subs, _, _) => {
                subs.iter().try_for_each(|s| check_filter(&s.filter))
            }
            Deferred::Unsubscribe(filters, _, _) => {
                filters.iter().try_for_each(|f| check_filter(f))
            }
            Deferred::End(_) => Ok(()),
        }
    }
}

impl Shared {
    /// Runs `call` now, or once the store is read (checked first, so an
    /// invalid call is refused at once either way).
    fn submit(&self, call: Deferred) -> Result<(), JsValue> {
        match self.driver() {
            Some(driver) => run_call(self, &driver, call),
            None => {
                call.check()?;
                self.deferred.borrow_mut().push(call);
            }
        }
        Ok(())
    }
}

/// Runs `f` in a microtask: after the caller's synchronous code, so that
/// listeners attached right after a call see every event.
fn soon(f: impl FnOnce() + 'static) {
    crate::client::driver::queue_microtask(Closure::once_into_js(f).unchecked_ref());
}

/// Takes the session lock, then opens and reads the store.
fn start_durable(shared: Rc<Shared>, parsed: options::Parsed) {
    let name = database_name(&parsed.client.url, &parsed.session.client_id);
    let wait = parsed.client.lock_wait;
    let lock_name = name.clone();
    let locked = move |release: JsValue| {
        if release.is_function() {
            *shared.release_lock.borrow_mut() = Some(release.unchecked_into());
        } else if release.is_null() {
            let e = ClientError::new(
                ErrorCode::SessionLocked,
                options::quoted("another tab or worker holds the session ", &name),
            );
            shared.fail_start(&e);
            return;
        }
        // (undefined: no usable Web Locks; go on without, the single-tab
        // guarantee lost.)
        open_store(shared, parsed, name);
    };
    acquire_lock(&lock_name, wait, Closure::once_into_js(locked));
}

/// Opens and reads the store `name`, then installs and starts the driver.
fn open_store(shared: Rc<Shared>, parsed: options::Parsed, name: String) {
    let cell: Rc<RefCell<Weak<Driver>>> = Rc::default();
    let target = cell.clone();
    let on_outcome = move |outcome| {
        let driver = target.borrow().upgrade();
        if let Some(d) = driver {
            d.on_store_outcome(outcome);
        }
    };
    let fallback = parsed.client.persistence == Persistence::IndexedDbOrMemory;
    let db_name = name.clone();
    let opened = move |result: Result<(IndexedDbStore, SessionState), StoreError>| {
        match result {
            Ok((store, mut state)) => {
                // Where the synchronous journal exists it knows the incoming
                // QoS 2 ids better than IndexedDB (see store::journal).
                let journal = IncomingJournal::open(&name).map(|(mut journal, ids)| {
                    if let Some(ids) = ids {
                        state.incoming_qos2 = ids;
                    }
                    journal.reset(&state.incoming_qos2);
                    journal
                });
                // Messages whose write a reload interrupted (see store::journal).
                let mut outgoing = OutgoingJournal::open(&name);
                let replay = outgoing
                    .as_mut()
                    .map(|j| j.merge_into(&mut state))
                    .unwrap_or_default();
                install_driver(
                    &shared,
                    parsed,
                    state,
                    Some((store, cell)),
                    (journal, outgoing),
                    replay,
                )
            }
            Err(_) if fallback => install_memory_driver(&shared, parsed),
            Err(e) => {
                shared.fail_start(&ClientError::from_store(&e));
                return;
            }
        }
        if let Some(d) = shared.driver() {
            d.start();
        }
    };
    IndexedDbStore::open(&db_name, on_outcome, opened);
}

/// Keeps `settle` in `table` under the accepted call's id (its outcome
/// comes as a notification), or rejects it with the refusal; then hands
/// out what the call produced.
fn await_outcome(
    table: &RefCell<Pending<Settle>>,
    driver: &Driver,
    result: Result<u64, ClientError>,
    settle: Settle,
) {
    match result {
        Ok(id) => table.borrow_mut().insert(id, settle),
        Err(e) => settle.reject(&to_js(&e)),
    }
    driver.deliver();
}

/// Connects to `url` and resolves with a `Client` after the first
/// successful CONNACK; rejects with an `MqttError` (and leaves nothing
/// running) on an invalid URL or option, a refusal, a failed connection, a
/// timeout, a store failure or (with `lock: "fail"`) a session held
/// elsewhere.
#[wasm_bindgen]
pub fn connect(url: &str, options: JsValue) -> Promise {
    promised(|settle| build(url, &options, true, Some(settle)).map(drop)).unwrap_or_else(rejected)
}

/// Returns a client at once and connects in the background, retrying per
/// `reconnect`; throws an `MqttError` for an invalid URL or option. Calls
/// made before the session store is read are carried out, in order, once
/// it is.
#[wasm_bindgen(js_name = createClient)]
pub fn create_client(url: &str, options: JsValue) -> Result<Client, JsValue> {
    let shared = build(url, &options, false, None)?;
    Ok(Client { shared })
}

/// An MQTT client (see shared/api.md).
#[wasm_bindgen]
pub struct Client {
    shared: Rc<Shared>,
}

fn filters_of(value: &JsValue) -> Result<Vec<String>, JsValue> {
    let bad = || {
        error(
            ErrorCode::InvalidTopic,
            "topic filter must be a string or an array of strings",
        )
    };
    if let Some(s) = value.as_string() {
        return Ok(vec![s]);
    }
    if Array::is_array(value) {
        // A loop, not collect() into a Result: less code in the wasm.
        let mut filters = Vec::new();
        for v in Array::from(value).iter() {
            filters.push(v.as_string().ok_or_else(bad)?);
        }
        return Ok(filters);
    }
    Err(bad())
}

fn check_filter(filter: &str) -> Result<(), JsValue> {
    crate::codec::validate_topic_filter(filter)
        .map_err(|e| error(ErrorCode::InvalidTopic, e.as_str()))
}

impl Client {
    fn publish_inner(
        &self,
        topic: &JsValue,
        payload: &JsValue,
        opts: &JsValue,
    ) -> Result<Promise, JsValue> {
        let (flags, topic, payload) =
            publish_arguments(topic, payload, opts, self.shared.max_packet.get())?;
        let qos = QoS::from_u8(flags & 3).unwrap_or(QoS::AtMostOnce);
        let properties = if flags & 8 == 0 {
            Properties::default()
        } else {
            request_properties(opts, Request::Publish)?
        };
        let message = Message {
            topic,
            payload,
            qos,
            retain: flags & 4 != 0,
            properties,
        };
        promised(|settle| self.shared.submit(Deferred::Publish(message, settle)))
    }

    fn subscribe_inner(&self, filters: &JsValue, opts: &JsValue) -> Result<Promise, JsValue> {
        let filters = filters_of(filters)?;
        let flags = subscribe_options(opts)?;
        let retain_handling = match flags >> 4 {
            1 => RetainHandling::SendIfNew,
            2 => RetainHandling::DoNotSend,
            _ => RetainHandling::SendAtSubscribe,
        };
        let options = SubscriptionOptions {
            qos: QoS::from_u8(flags & 3).unwrap_or(QoS::AtMostOnce),
            no_local: flags & 4 != 0,
            retain_as_published: flags & 8 != 0,
            retain_handling,
        };
        let mut subscriptions = Vec::with_capacity(filters.len());
        for filter in filters {
            subscriptions.push(Subscription { filter, options });
        }
        let properties = request_properties(opts, Request::Subscribe)?;
        promised(|settle| {
            self.shared
                .submit(Deferred::Subscribe(subscriptions, properties, settle))
        })
    }

    fn unsubscribe_inner(&self, filters: &JsValue, opts: &JsValue) -> Result<Promise, JsValue> {
        let filters = filters_of(filters)?;
        let properties = request_properties(opts, Request::Unsubscribe)?;
        promised(|settle| {
            self.shared
                .submit(Deferred::Unsubscribe(filters, properties, settle))
        })
    }
}

#[wasm_bindgen]
impl Client {
    /// Publishes `payload` (string or Uint8Array) to `topic`; see api.md for
    /// when the promise settles.
    pub fn publish(&self, topic: &JsValue, payload: &JsValue, options: &JsValue) -> Promise {
        self.publish_inner(topic, payload, options)
            .unwrap_or_else(rejected)
    }

    /// Subscribes to a filter or filters; resolves with one granted QoS or
    /// failure code per filter.
    pub fn subscribe(&self, filters: &JsValue, options: &JsValue) -> Promise {
        self.subscribe_inner(filters, options)
            .unwrap_or_else(rejected)
    }

    /// Unsubscribes from a filter or filters.
    pub fn unsubscribe(&self, filters: &JsValue, options: &JsValue) -> Promise {
        self.unsubscribe_inner(filters, options)
            .unwrap_or_else(rejected)
    }

    /// Ends the client (DISCONNECT, or just closing with `force`); stored
    /// session state is kept. Later calls reject with `Closed`.
    pub fn end(&self, force: Option<bool>) -> Promise {
        let _ = self.shared.submit(Deferred::End(force.unwrap_or(false)));
        Promise::resolve(&JsValue::UNDEFINED)
    }

    /// The outgoing messages not yet complete, oldest first: `{ id, topic,
    /// qos, retain, packetId, state, attempts, createdAt }` with `state` one
    /// of "queued", "sent", "received" (PUBREC in), "released" (PUBREL out).
    pub fn outbox(&self) -> Array {
        let entries = Array::new();
        let Some(driver) = self.shared.driver() else {
            return entries;
        };
        for m in &driver.outbox() {
            entries.push(&outbox_entry(
                m.seq as f64,
                &m.message.topic,
                m.message.qos.as_u8(),
                m.message.retain,
                m.packet_id,
                &convert::key(state_name(m.state)),
                m.attempts,
                m.created_ms as f64,
            ));
        }
        entries
    }

    /// Adds `listener` for `event`; returns the client for chaining.
    pub fn on(&self, event: &JsValue, listener: &JsValue) -> Client {
        let shared = &self.shared;
        let had_message_listener = shared.has_message_listener();
        let bits = listen(&shared.listeners, event, listener, true);
        shared.listening.set(bits);
        if !had_message_listener
            && shared.has_message_listener()
            && !shared.held.borrow().is_empty()
        {
            // Hand over held messages after the caller's task, in order.
            let weak = Rc::downgrade(&self.shared);
            soon(move || {
                let Some(shared) = weak.upgrade() else {
                    return;
                };
                // Until a listener removes the last message listener.
                while shared.has_message_listener() {
                    let next = shared.held.borrow_mut().pop_front();
                    let Some(p) = next else {
                        break;
                    };
                    shared.deliver_message(&p);
                }
            });
        }
        Client {
            shared: self.shared.clone(),
        }
    }

    /// Removes `listener` from `event`.
    pub fn off(&self, event: &JsValue, listener: &JsValue) -> Client {
        let bits = listen(&self.shared.listeners, event, listener, false);
        self.shared.listening.set(bits);
        Client {
            shared: self.shared.clone(),
        }
    }

    /// True while connected (after CONNACK, until the connection is lost).
    #[wasm_bindgen(getter)]
    pub fn connected(&self) -> bool {
        self.shared.driver().is_some_and(|d| d.connected())
    }

    /// The latest CONNACK as `{ sessionPresent, reasonCode, properties? }`,
    /// or `null` before the first.
    #[wasm_bindgen(getter)]
    pub fn connack(&self) -> JsValue {
        match self.shared.driver().and_then(|d| d.connack()) {
            Some(ack) => convert::connack_to_js(&ack),
            None => JsValue::NULL,
        }
    }

    /// True after `end()`.
    #[wasm_bindgen(getter)]
    pub fn ended(&self) -> bool {
        self.shared.driver().map_or(true, |d| d.ended())
    }
}
