/**
 * BullMQ (the Redis job queue of the fleet), pinned here (the one place its version is written).
 * @module
 */
export * from "npm:bullmq@6.7.0";
