// JVM-free check of the operations behind the binding: ids survive add/search/remove/filter.
#include "faiss_ops.h"

#include <faiss/impl/FaissException.h>
#include <omp.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <vector>

#define CHECK(cond)                                                        \
  do {                                                                     \
    if (!(cond)) {                                                         \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::exit(1);                                                        \
    }                                                                      \
  } while (0)

int main() {
  const int dim = 8;
  const int n = 100;
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> xs(n * dim);
  for (auto& x : xs) x = u(rng);
  std::vector<deepchat::idx_t> ids(n);
  for (int i = 0; i < n; i++) ids[i] = 1000 + i * 3;

  std::unique_ptr<faiss::Index> index(deepchat::create_index(dim, "Flat", deepchat::Metric::L2));
  deepchat::add_with_ids(index.get(), n, xs.data(), ids.data());
  CHECK(index->ntotal == n);

  float d[1];
  deepchat::idx_t label[1];
  std::unique_ptr<faiss::Index> empty(deepchat::create_index(dim, "Flat", deepchat::Metric::L2));
  deepchat::search(empty.get(), 1, xs.data(), 1, nullptr, 0, d, label);  // crashed inside FAISS before
  CHECK(label[0] == -1);
  deepchat::search(empty.get(), 1, xs.data(), 1, ids.data(), 1, d, label);
  CHECK(label[0] == -1);

  const int team = omp_get_max_threads();
  deepchat::search(index.get(), 1, xs.data() + 5 * dim, 1, nullptr, 0, d, label);
  CHECK(label[0] == ids[5]);
  CHECK(omp_get_max_threads() == team);  // a single query runs serially, then the thread's setting is back

  deepchat::idx_t only[] = {ids[42]};
  deepchat::search(index.get(), 1, xs.data() + 5 * dim, 1, only, 1, d, label);
  CHECK(label[0] == ids[42]);

  CHECK(deepchat::remove_ids(index.get(), ids.data() + 5, 1) == 1);
  deepchat::search(index.get(), 1, xs.data() + 5 * dim, 1, nullptr, 0, d, label);
  CHECK(label[0] != ids[5]);

  bool threw = false;
  try {
    delete deepchat::create_index(dim, "NoSuchIndex", deepchat::Metric::L2);
  } catch (const faiss::FaissException&) {
    threw = true;
  }
  CHECK(threw);
  std::puts("faiss_ops_test: ok");
  return 0;
}
