// SPDX-License-Identifier: GPL-2.0

//! The 2-netdev model (as Hyper-V netvsc used in 4.18): the paravirtual
//! driver's own netdev is the failover master and the VF its only slave; the
//! driver supplies the callbacks through `failover_register()`. Not provided
//! by this version of the module: only the 3-netdev model of
//! `virtio_standby.rs` registers with the core.
