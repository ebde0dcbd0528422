#include "faiss_ops.h"

#include <faiss/AutoTune.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIDMap.h>
#include <faiss/IndexIVF.h>
#include <faiss/impl/FaissException.h>
#include <faiss/impl/HNSW.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/index_factory.h>
#include <faiss/index_io.h>

#include <omp.h>

#include <algorithm>
#include <limits>
#include <memory>
#include <optional>
#include <vector>

namespace deepchat {

namespace {

faiss::IndexIDMap* as_id_map(const faiss::Index* index) {
  auto* map = dynamic_cast<faiss::IndexIDMap*>(const_cast<faiss::Index*>(index));
  FAISS_THROW_IF_NOT_MSG(map != nullptr, "index is not id-mapped");
  return map;
}

// FAISS 1.7.3's IDMap hands search parameters to the inner index untranslated, and the inner index
// knows only positions: this selector maps a position to its external id before asking the filter.
struct PositionSelector : faiss::IDSelector {
  const std::vector<idx_t>& id_map;
  const faiss::IDSelector& by_id;

  PositionSelector(const std::vector<idx_t>& id_map, const faiss::IDSelector& by_id)
      : id_map(id_map), by_id(by_id) {}

  bool is_member(idx_t position) const override {
    return position >= 0 && static_cast<size_t>(position) < id_map.size() &&
           by_id.is_member(id_map[position]);
  }
};

// Search parameters of the inner index's own type, so its tuned efSearch / nprobe stay in effect.
std::unique_ptr<faiss::SearchParameters> params_for(const faiss::Index* inner) {
  if (auto* ivf = dynamic_cast<const faiss::IndexIVF*>(inner)) {
    auto p = std::make_unique<faiss::SearchParametersIVF>();
    p->nprobe = ivf->nprobe;
    return p;
  }
  if (auto* hnsw = dynamic_cast<const faiss::IndexHNSW*>(inner)) {
    auto p = std::make_unique<faiss::SearchParametersHNSW>();
    p->efSearch = hnsw->hnsw.efSearch;
    return p;
  }
  return std::make_unique<faiss::SearchParameters>();
}

// Below this many queries a search runs on the calling thread alone. One query's scan of a knowledge
// base is a few milliseconds of memory-bound work; FAISS 1.7.3 still opens an OpenMP team for it (the
// id mapping, the result heaps), and the team's threads spin-wait after each region, which made a 10k
// vector search cost three times its CPU and took the cores from the query embeddings and PostgreSQL
// (docs/performance.md, retrieval latency). Batches (the bench, evaluation tools) keep the team.
constexpr idx_t kSerialBelow = 16;

// Sets this thread's OpenMP team size to one for its lifetime (the setting is per calling thread).
class SerialOpenMp {
 public:
  SerialOpenMp() : saved_(omp_get_max_threads()) { omp_set_num_threads(1); }
  ~SerialOpenMp() { omp_set_num_threads(saved_); }
  SerialOpenMp(const SerialOpenMp&) = delete;
  SerialOpenMp& operator=(const SerialOpenMp&) = delete;

 private:
  int saved_;
};

}  // namespace

faiss::Index* create_index(int dim, const std::string& factory, Metric metric) {
  FAISS_THROW_IF_NOT_MSG(dim > 0, "dimension must be positive");
  FAISS_THROW_IF_NOT_MSG(!factory.empty(), "empty factory string");
  faiss::MetricType type =
      metric == Metric::InnerProduct ? faiss::METRIC_INNER_PRODUCT : faiss::METRIC_L2;
  std::unique_ptr<faiss::Index> inner(faiss::index_factory(dim, factory.c_str(), type));
  auto* map = new faiss::IndexIDMap2(inner.get());
  map->own_fields = true;
  inner.release();
  return map;
}

faiss::Index* read_index(const std::string& path) {
  std::unique_ptr<faiss::Index> index(faiss::read_index(path.c_str()));
  if (dynamic_cast<faiss::IndexIDMap*>(index.get()) == nullptr) {
    FAISS_THROW_MSG("index file does not hold an id-mapped index: " + path);
  }
  return index.release();
}

void write_index(const faiss::Index* index, const std::string& path) {
  faiss::write_index(index, path.c_str());
}

void train(faiss::Index* index, idx_t n, const float* vectors) {
  index->train(n, vectors);
}

void add_with_ids(faiss::Index* index, idx_t n, const float* vectors, const idx_t* ids) {
  FAISS_THROW_IF_NOT_MSG(index->is_trained, "index must be trained before adding vectors");
  index->add_with_ids(n, vectors, ids);
}

size_t remove_ids(faiss::Index* index, const idx_t* ids, size_t n) {
  faiss::IDSelectorBatch selector(n, ids);
  return index->remove_ids(selector);
}

void search(const faiss::Index* index, idx_t n, const float* queries, idx_t k,
            const idx_t* filter, size_t filter_size, float* distances, idx_t* labels) {
  FAISS_THROW_IF_NOT_MSG(k > 0, "k must be positive");
  if (index->ntotal == 0) {
    // FAISS 1.7.3 reads uninitialised labels when it searches an empty index (a crash), so answer
    // here with what it pads missing neighbours with: label -1 and the worst distance.
    const float worst = index->metric_type == faiss::METRIC_INNER_PRODUCT ? -std::numeric_limits<float>::max()
                                                                          : std::numeric_limits<float>::max();
    std::fill(distances, distances + n * k, worst);
    std::fill(labels, labels + n * k, idx_t{-1});
    return;
  }
  std::optional<SerialOpenMp> serial;
  if (n < kSerialBelow) {
    serial.emplace();
  }
  if (filter == nullptr) {
    index->search(n, queries, k, distances, labels);
    return;
  }
  const faiss::IndexIDMap* map = as_id_map(index);
  faiss::IDSelectorBatch by_id(filter_size, filter);
  PositionSelector by_position(map->id_map, by_id);
  std::unique_ptr<faiss::SearchParameters> params = params_for(map->index);
  params->sel = &by_position;
  map->index->search(n, queries, k, distances, labels, params.get());
  for (idx_t i = 0; i < n * k; i++) {
    if (labels[i] >= 0) {
      labels[i] = map->id_map[labels[i]];
    }
  }
}

void set_parameter(faiss::Index* index, const std::string& name, double value) {
  faiss::ParameterSpace().set_index_parameter(as_id_map(index)->index, name, value);
}

Metric metric_of(const faiss::Index* index) {
  return index->metric_type == faiss::METRIC_INNER_PRODUCT ? Metric::InnerProduct : Metric::L2;
}

}  // namespace deepchat
