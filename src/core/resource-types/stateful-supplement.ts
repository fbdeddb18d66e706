/**
 * Stateful AWS resource types that the generated list (`aws-stateful.ts`, from cfn-lint's
 * `StatefulResources.json` by way of AWS's resource specification) lacks, although they belong to
 * a class of stateful types that Flotilla protects by design: databases and their clusters,
 * streams, queues with messages, search domains.
 *
 * Written by hand and reviewed: keep it small, give each entry its reason, and remove an entry
 * once the source lists it (`stateful-supplement.test.ts` fails then, so the list cannot rot into
 * a second, hand-kept copy of the source).
 */

/** One hand-added stateful type and why its deletion loses what a revert cannot bring back. */
export interface StatefulSupplementEntry {
  /** `AWS::MSK::Cluster`. */
  readonly type: string
  /** The class of stateful types it belongs to, and what its deletion loses. */
  readonly reason: string
}

/** The hand-added stateful types, in code-unit order. */
export const STATEFUL_SUPPLEMENT: readonly StatefulSupplementEntry[] = Object.freeze([
  {
    type: 'AWS::AmazonMQ::Broker',
    reason: 'a queue with messages: deleting the broker deletes the messages in its queues and topics',
  },
  {
    type: 'AWS::DocDBElastic::Cluster',
    reason:
      'a document database cluster, the elastic sibling of the listed AWS::DocDB::DBCluster: deleting it deletes its collections',
  },
  {
    type: 'AWS::MSK::Cluster',
    reason: "a stream: deleting the Kafka cluster deletes every topic's records on its brokers' storage",
  },
  {
    type: 'AWS::MSK::ServerlessCluster',
    reason: 'a stream: deleting the serverless Kafka cluster deletes every topic and its records',
  },
  {
    type: 'AWS::MemoryDB::Cluster',
    reason:
      'a database cluster: MemoryDB is a durable primary database (unlike a cache, its data is the only copy); deleting it deletes the data',
  },
  {
    type: 'AWS::OpenSearchServerless::Collection',
    reason:
      'a search domain, the serverless form of the listed AWS::OpenSearchService::Domain: deleting the collection deletes its indexes',
  },
])
