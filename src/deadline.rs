//! Deadlines on reading a request: a body must keep arriving.
//!
//! actix-web times out a request whose head is slow (`408`, see
//! `client_request_timeout` in [`crate::startup`]) but not its body: a
//! client that sends `Content-Length: 1000000`, five bytes, and then
//! nothing held its connection, and the buffers behind it, for good. A
//! thousand such clients took the whole server down (issue 13, item 2).
//!
//! Every request body is read through a deadline: when no byte arrives
//! for the read timeout (`--read-timeout`), the body ends in an error, the
//! request is answered `408 request_timeout` in JSON, and the connection
//! is closed. Nothing was stored: no handler writes before its body is
//! whole. How many connections may be open at once is a setting too
//! (`--max-connections`); together they bound what slow clients can hold.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::rt::time::{sleep, Sleep};
use actix_web::web::Bytes;
use actix_web::HttpMessage as _;
use actix_web::HttpResponse;
use futures_util::Stream;

use sotto_wire::api::ErrorBody;

/// A request body that fails once it has been silent for too long.
struct Deadline {
    inner: Payload,
    idle: Duration,
    timer: Pin<Box<Sleep>>,
    expired: Rc<Cell<bool>>,
}

impl Stream for Deadline {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Ready(item) => {
                // Each piece that arrives starts the wait again.
                let next = actix_web::rt::time::Instant::now() + this.idle;
                this.timer.as_mut().reset(next);
                Poll::Ready(item)
            }
            Poll::Pending => match this.timer.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    this.expired.set(true);
                    Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "the request body stopped arriving",
                    )))))
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

/// Puts the request's body behind a read deadline of `idle`; the flag it
/// returns is set if the deadline passed.
pub fn guard(req: &mut ServiceRequest, idle: Duration) -> Rc<Cell<bool>> {
    let expired = Rc::new(Cell::new(false));
    let inner = req.take_payload();
    // A request without a body (a status poll, a GET) has nothing to wait
    // for: no timer on the hot path.
    if matches!(inner, Payload::None) {
        req.set_payload(inner);
        return expired;
    }
    let timed = Deadline {
        inner,
        idle,
        timer: Box::pin(sleep(idle)),
        expired: Rc::clone(&expired),
    };
    req.set_payload(Payload::from(
        Box::pin(timed) as Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>>
    ));
    expired
}

/// The answer to a request whose body stopped arriving, in place of
/// whatever the handler made of the cut body.
pub fn answer<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
    expired: bool,
) -> ServiceResponse<EitherBody<B, BoxBody>> {
    if !expired {
        return res.map_into_left_body();
    }
    let body = ErrorBody {
        error: "request_timeout".to_owned(),
        message: "the request body stopped arriving; nothing was stored, send it again".to_owned(),
    };
    let mut timeout = HttpResponse::build(StatusCode::REQUEST_TIMEOUT).json(body);
    // The rest of the body may still come; the connection cannot be reused.
    timeout
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    res.into_response(timeout).map_into_right_body()
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;
    use futures_util::{stream, StreamExt};

    use super::*;

    type Boxed = Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>>;

    fn request_with(body: Boxed, idle: Duration) -> (Payload, Rc<Cell<bool>>) {
        let mut req = TestRequest::default().to_srv_request();
        req.set_payload(Payload::from(body));
        let expired = guard(&mut req, idle);
        (req.take_payload(), expired)
    }

    #[actix_web::test]
    async fn a_body_that_stops_arriving_ends_in_a_timeout_error() {
        let five_bytes_then_nothing =
            stream::once(async { Ok(Bytes::from_static(b"hello")) }).chain(stream::pending());
        let (mut body, expired) =
            request_with(Box::pin(five_bytes_then_nothing), Duration::from_millis(50));
        assert_eq!(body.next().await.unwrap().unwrap(), "hello");
        assert!(!expired.get());
        let err = body.next().await.unwrap().unwrap_err();
        assert!(matches!(err, PayloadError::Io(ref e) if e.kind() == std::io::ErrorKind::TimedOut));
        assert!(expired.get());
    }

    #[actix_web::test]
    async fn a_request_without_a_body_gets_no_timer() {
        let mut req = TestRequest::default().to_srv_request();
        req.set_payload(Payload::None);
        let expired = guard(&mut req, Duration::from_millis(1));
        assert!(matches!(req.take_payload(), Payload::None));
        assert!(!expired.get());
    }

    #[actix_web::test]
    async fn a_body_that_keeps_arriving_is_read_whole() {
        // Half a second in all, but never 200 ms of silence.
        let slow = stream::unfold(0, |n| async move {
            if n == 5 {
                return None;
            }
            sleep(Duration::from_millis(100)).await;
            Some((Ok(Bytes::from_static(b"x")), n + 1))
        });
        let (mut body, expired) = request_with(Box::pin(slow), Duration::from_millis(200));
        let mut got = Vec::new();
        while let Some(chunk) = body.next().await {
            got.extend_from_slice(&chunk.unwrap());
        }
        assert_eq!(got, b"xxxxx");
        assert!(!expired.get());
    }
}
