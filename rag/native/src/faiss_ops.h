// Plain C++ operations behind the JNI binding: every FAISS index we hand out is an IDMap2 over the
// index the factory string describes, so callers always work with their own 64-bit ids.
#pragma once

#include <faiss/Index.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace deepchat {

using idx_t = faiss::Index::idx_t;

enum class Metric : int { InnerProduct = 0, L2 = 1 };

// Builds "factory" (e.g. "Flat", "HNSW32", "IVF256,PQ32") wrapped in an IndexIDMap2.
faiss::Index* create_index(int dim, const std::string& factory, Metric metric);

// Reads an index written by write_index; refuses anything that is not an id-mapped index.
faiss::Index* read_index(const std::string& path);

void write_index(const faiss::Index* index, const std::string& path);

void train(faiss::Index* index, idx_t n, const float* vectors);

void add_with_ids(faiss::Index* index, idx_t n, const float* vectors, const idx_t* ids);

// Returns how many vectors were removed.
size_t remove_ids(faiss::Index* index, const idx_t* ids, size_t n);

// k nearest neighbours of n queries; when filter is non-null only those ids can be returned.
// Missing results carry label -1 (all of them when the index is empty).
void search(const faiss::Index* index, idx_t n, const float* queries, idx_t k,
            const idx_t* filter, size_t filter_size, float* distances, idx_t* labels);

// Sets a search-time parameter of the wrapped index ("efSearch", "nprobe", ...).
void set_parameter(faiss::Index* index, const std::string& name, double value);

Metric metric_of(const faiss::Index* index);

}  // namespace deepchat
