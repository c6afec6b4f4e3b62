#pragma once

#include <string>

#include "messages/types.hpp"

namespace zaki {

/// Returns the text the Retry store keeps for a photo or file message: its
/// kind, file and caption in one string, so that Retry fetches the file
/// again (the store keeps texts only).
std::string encode_media_retry(const inbound_message& msg);

/// Turns a text kept by `encode_media_retry` back into the media fields
/// and caption of `msg`; returns false (and leaves `msg` alone) for any
/// other text.
bool decode_media_retry(inbound_message& msg);

} // namespace zaki
