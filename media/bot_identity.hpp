#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>

namespace zaki {

/// The bot as getMe describes it.
struct bot_identity {
  std::string username;
  /// Why it is unknown (empty on success); never contains the token.
  std::string error;
};

/// Asks getMe for the bot's username, waiting at most `deadline`. Blocks
/// the calling thread: for the start-up code only, never for an actor. The
/// I/O runs on `ioc`, which must be running.
bot_identity fetch_bot_identity(boost::asio::io_context& ioc,
                                std::shared_ptr<boost::asio::ssl::context> tls,
                                const std::string& api_root,
                                const std::string& token,
                                std::chrono::milliseconds deadline);

/// Returns the username in a getMe answer, or empty.
std::string decode_get_me_username(std::string& body);

} // namespace zaki
