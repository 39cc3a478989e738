//! The generated gRPC types, client and server of `contentfilter.v1`.

#![allow(missing_docs, clippy::all, clippy::pedantic)]

tonic::include_proto!("contentfilter.v1");

/// The encoded file descriptor set, for server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    tonic::include_file_descriptor_set!("content_filter_descriptor");
