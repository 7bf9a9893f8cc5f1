// HAProxy's termination state: the two letters of the access log's TS field that say who or what ended a
// session (`cause`) and in which phase it was then (`state`). Every state the proxy logs is named here, with
// what it means in HAProxy's terms ("Session state at disconnection" in HAProxy's configuration manual).
// Types only.
#pragma once

namespace metalgate::proxy {

struct Termination {
  char cause = '-';  // C client, S server, P proxy, c/s client/server timeout, - nothing abnormal
  char state = '-';  // R request, Q queue, C connect, H response headers, D data, - after the end of data
  bool operator==(const Termination&) const = default;
};

namespace termination {

// "--": normal completion; also what a session holds while nothing has ended it.
inline constexpr Termination kNormal{'-', '-'};
// "CR": the client aborted before sending a complete request.
inline constexpr Termination kClientAbortRequest{'C', 'R'};
// "CH": the client aborted while waiting for the server's response headers.
inline constexpr Termination kClientAbortHeaders{'C', 'H'};
// "CD": the client aborted (or sent an invalid body) during the data phase.
inline constexpr Termination kClientAbortData{'C', 'D'};
// "PR": the proxy answered or refused the request itself (bad request, deny rule, rate limit, redirect).
inline constexpr Termination kProxyRequest{'P', 'R'};
// "sC": no server could be connected to: none is up, or none could be chosen.
inline constexpr Termination kNoServer{'s', 'C'};
// "sQ": the queue timeout expired while the request waited for a server slot.
inline constexpr Termination kQueueTimeout{'s', 'Q'};
// "SC": the server refused the connection (or it failed) on every attempt.
inline constexpr Termination kServerRefused{'S', 'C'};
// "SH": the server aborted, or answered invalid headers, before its response headers were complete.
inline constexpr Termination kServerAbortHeaders{'S', 'H'};
// "SD": the server aborted, or sent an invalid body, during the data phase.
inline constexpr Termination kServerAbortData{'S', 'D'};
// "sH": the server timeout expired while waiting for the response headers.
inline constexpr Termination kServerTimeoutHeaders{'s', 'H'};
// "sD": the server (or tunnel) timeout expired during the data phase.
inline constexpr Termination kServerTimeoutData{'s', 'D'};
// "cR": the client timeout (timeout http-request) expired before a complete request.
inline constexpr Termination kClientTimeoutRequest{'c', 'R'};
// "cD": the client timeout expired during the data phase.
inline constexpr Termination kClientTimeoutData{'c', 'D'};

}  // namespace termination

}  // namespace metalgate::proxy
