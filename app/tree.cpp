#include "app/tree.hpp"

#include "actors/admin.hpp"
#include "actors/provisioner.hpp"

namespace zaki {

std::vector<child_spec> router_children(const context_ptr& ctx,
                                        user_registry users) {
  auto result = core_children(ctx, std::move(users));
  result.push_back(admin_child(ctx));
  for (auto& spec : container_children(ctx))
    result.push_back(std::move(spec));
  return result;
}

} // namespace zaki
