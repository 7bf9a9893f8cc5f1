// What runs on simulated hosts besides the engine: backends that answer with their pod's identity (HTTP on a
// TCP port, a responder on a UDP port) and HTTP and UDP clients that record every request. All are the
// world-neutral scenario layer's (scenario/apps), written against the runtime port, so the live twin and the
// in-memory world run the same code; the simulator knows them by these names.
#pragma once

#include "scenario/apps/http_load_client.h"
#include "scenario/apps/identity_http_server.h"
#include "scenario/apps/udp_load_client.h"
#include "scenario/apps/udp_responder.h"
#include "scenario/observe/observations.h"

namespace metalgate::sim {

using IdentityHttpServer = apps::IdentityHttpServer;
using IdentityUdpServer = apps::UdpResponder;
using HttpLoadClient = apps::HttpLoadClient;
using UdpLoadClient = apps::UdpLoadClient;

// Defined with the scenario layer's observations: every world's clients record the same.
using RequestRecord = scenario::observe::RequestRecord;

}  // namespace metalgate::sim
