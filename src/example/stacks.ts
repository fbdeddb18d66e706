import type { OpsAccountName } from './inventory.ts'

/**
 * The account stacks of the example (`stacks/*.yaml`): complete CloudFormation templates with
 * Flotilla's keys in `Metadata`. Between them they use both scopes, selectors, parameters from
 * `{{ }}` and from defaults, conditions, outputs and exports, CloudFormation's short tags and a
 * dynamic reference, so that a platform team finds an example of each to copy.
 */
export function stackFiles(opsAccountIds: Readonly<Record<OpsAccountName, string>>): Map<string, string> {
  return new Map([
    ['stacks/vpc.yaml', VPC],
    ['stacks/logging.yaml', LOGGING],
    ['stacks/route53-hostedzones.yaml', HOSTED_ZONES],
    ['stacks/iam-roles.yaml', iamRoles(opsAccountIds)],
    ['stacks/ops-monitoring.yaml', OPS_MONITORING],
  ])
}

// In the templates below, `\${…}` is CloudFormation's !Sub syntax, escaped for TypeScript; the
// files contain `${…}`. Flotilla leaves it, like every short tag, to CloudFormation.

const VPC = `# The account network: one VPC per account region, with public and private subnets in three
# availability zones. VPC ranges come from the account's config (inventory/accounts/), so that
# no two VPCs in the fleet overlap and any two can be peered.
AWSTemplateFormatVersion: "2010-09-09"
Description: Account network with public and private subnets in three availability zones
Metadata:
  StackName: vpc
  Scope: { Type: region }          # one stack in each of the account's regions
  Parameters:
    # The home region uses vpc_cidr, a second region vpc_cidr_secondary.
    VpcCidr: "{{ region == account.regions[0] ? config.vpc_cidr : config.vpc_cidr_secondary }}"
    Environment: "{{ account.environment }}"
    FlowLogBucket: "logs-{{ account.id }}-{{ region }}"   # created by stacks/logging.yaml
  AWS::CloudFormation::Interface:  # CloudFormation's own metadata passes through untouched
    ParameterGroups:
      - Label: { default: Network }
        Parameters: [VpcCidr, SubnetBits]
Parameters:
  VpcCidr:
    Type: String
    Description: IPv4 range of the VPC
    AllowedPattern: '^10\\.\\d{1,3}\\.\\d{1,3}\\.0/(1[6-9]|2[01])$'
  Environment:
    Type: String
    AllowedValues: [production, staging, test]
  SubnetBits:
    Type: Number
    Default: 8                     # /24 subnets; no value in Metadata.Parameters, so the default holds
  FlowLogBucket:
    Type: String
Conditions:
  IsProduction: !Equals [!Ref Environment, production]
Resources:
  VPC:
    Type: AWS::EC2::VPC
    Properties:
      CidrBlock: !Ref VpcCidr
      EnableDnsSupport: true
      EnableDnsHostnames: true
      Tags:
        - { Key: Name, Value: !Sub "\${AWS::StackName}-{{ account.name }}" }
        - { Key: owner, Value: "{{ account.team }}" }
        - { Key: environment, Value: !Ref Environment }
  InternetGateway:
    Type: AWS::EC2::InternetGateway
  GatewayAttachment:
    Type: AWS::EC2::VPCGatewayAttachment
    Properties:
      VpcId: !Ref VPC
      InternetGatewayId: !Ref InternetGateway
  PublicSubnetA:
    Type: AWS::EC2::Subnet
    Properties:
      VpcId: !Ref VPC
      AvailabilityZone: !Select [0, !GetAZs ""]
      CidrBlock: !Select [0, !Cidr [!GetAtt VPC.CidrBlock, 6, !Ref SubnetBits]]
      MapPublicIpOnLaunch: true
      Tags: [{ Key: kubernetes.io/role/elb, Value: "1" }]
  PublicSubnetB:
    Type: AWS::EC2::Subnet
    Properties:
      VpcId: !Ref VPC
      AvailabilityZone: !Select [1, !GetAZs ""]
      CidrBlock: !Select [1, !Cidr [!GetAtt VPC.CidrBlock, 6, !Ref SubnetBits]]
      MapPublicIpOnLaunch: true
      Tags: [{ Key: kubernetes.io/role/elb, Value: "1" }]
  PublicSubnetC:
    Type: AWS::EC2::Subnet
    Properties:
      VpcId: !Ref VPC
      AvailabilityZone: !Select [2, !GetAZs ""]
      CidrBlock: !Select [2, !Cidr [!GetAtt VPC.CidrBlock, 6, !Ref SubnetBits]]
      MapPublicIpOnLaunch: true
      Tags: [{ Key: kubernetes.io/role/elb, Value: "1" }]
  PrivateSubnetA:
    Type: AWS::EC2::Subnet
    Properties:
      VpcId: !Ref VPC
      AvailabilityZone: !Select [0, !GetAZs ""]
      CidrBlock: !Select [3, !Cidr [!GetAtt VPC.CidrBlock, 6, !Ref SubnetBits]]
      Tags: [{ Key: kubernetes.io/role/internal-elb, Value: "1" }]
  PrivateSubnetB:
    Type: AWS::EC2::Subnet
    Properties:
      VpcId: !Ref VPC
      AvailabilityZone: !Select [1, !GetAZs ""]
      CidrBlock: !Select [4, !Cidr [!GetAtt VPC.CidrBlock, 6, !Ref SubnetBits]]
      Tags: [{ Key: kubernetes.io/role/internal-elb, Value: "1" }]
  PrivateSubnetC:
    Type: AWS::EC2::Subnet
    Properties:
      VpcId: !Ref VPC
      AvailabilityZone: !Select [2, !GetAZs ""]
      CidrBlock: !Select [5, !Cidr [!GetAtt VPC.CidrBlock, 6, !Ref SubnetBits]]
      Tags: [{ Key: kubernetes.io/role/internal-elb, Value: "1" }]
  PublicRouteTable:
    Type: AWS::EC2::RouteTable
    Properties:
      VpcId: !Ref VPC
  PublicDefaultRoute:
    Type: AWS::EC2::Route
    DependsOn: GatewayAttachment
    Properties:
      RouteTableId: !Ref PublicRouteTable
      DestinationCidrBlock: 0.0.0.0/0
      GatewayId: !Ref InternetGateway
  PublicSubnetARoutes:
    Type: AWS::EC2::SubnetRouteTableAssociation
    Properties: { SubnetId: !Ref PublicSubnetA, RouteTableId: !Ref PublicRouteTable }
  PublicSubnetBRoutes:
    Type: AWS::EC2::SubnetRouteTableAssociation
    Properties: { SubnetId: !Ref PublicSubnetB, RouteTableId: !Ref PublicRouteTable }
  PublicSubnetCRoutes:
    Type: AWS::EC2::SubnetRouteTableAssociation
    Properties: { SubnetId: !Ref PublicSubnetC, RouteTableId: !Ref PublicRouteTable }
  # One NAT gateway everywhere; production gets one per availability zone, so that losing a zone
  # does not cut the other two off the internet.
  NatAddressA:
    Type: AWS::EC2::EIP
    DependsOn: GatewayAttachment
    Properties: { Domain: vpc }
  NatGatewayA:
    Type: AWS::EC2::NatGateway
    Properties:
      AllocationId: !GetAtt NatAddressA.AllocationId
      SubnetId: !Ref PublicSubnetA
  NatAddressB:
    Type: AWS::EC2::EIP
    Condition: IsProduction
    DependsOn: GatewayAttachment
    Properties: { Domain: vpc }
  NatGatewayB:
    Type: AWS::EC2::NatGateway
    Condition: IsProduction
    Properties:
      AllocationId: !GetAtt NatAddressB.AllocationId
      SubnetId: !Ref PublicSubnetB
  NatAddressC:
    Type: AWS::EC2::EIP
    Condition: IsProduction
    DependsOn: GatewayAttachment
    Properties: { Domain: vpc }
  NatGatewayC:
    Type: AWS::EC2::NatGateway
    Condition: IsProduction
    Properties:
      AllocationId: !GetAtt NatAddressC.AllocationId
      SubnetId: !Ref PublicSubnetC
  PrivateRouteTableA:
    Type: AWS::EC2::RouteTable
    Properties: { VpcId: !Ref VPC }
  PrivateRouteTableB:
    Type: AWS::EC2::RouteTable
    Properties: { VpcId: !Ref VPC }
  PrivateRouteTableC:
    Type: AWS::EC2::RouteTable
    Properties: { VpcId: !Ref VPC }
  PrivateDefaultRouteA:
    Type: AWS::EC2::Route
    Properties:
      RouteTableId: !Ref PrivateRouteTableA
      DestinationCidrBlock: 0.0.0.0/0
      NatGatewayId: !Ref NatGatewayA
  PrivateDefaultRouteB:
    Type: AWS::EC2::Route
    Properties:
      RouteTableId: !Ref PrivateRouteTableB
      DestinationCidrBlock: 0.0.0.0/0
      NatGatewayId: !If [IsProduction, !Ref NatGatewayB, !Ref NatGatewayA]
  PrivateDefaultRouteC:
    Type: AWS::EC2::Route
    Properties:
      RouteTableId: !Ref PrivateRouteTableC
      DestinationCidrBlock: 0.0.0.0/0
      NatGatewayId: !If [IsProduction, !Ref NatGatewayC, !Ref NatGatewayA]
  PrivateSubnetARoutes:
    Type: AWS::EC2::SubnetRouteTableAssociation
    Properties: { SubnetId: !Ref PrivateSubnetA, RouteTableId: !Ref PrivateRouteTableA }
  PrivateSubnetBRoutes:
    Type: AWS::EC2::SubnetRouteTableAssociation
    Properties: { SubnetId: !Ref PrivateSubnetB, RouteTableId: !Ref PrivateRouteTableB }
  PrivateSubnetCRoutes:
    Type: AWS::EC2::SubnetRouteTableAssociation
    Properties: { SubnetId: !Ref PrivateSubnetC, RouteTableId: !Ref PrivateRouteTableC }
  FlowLog:
    Type: AWS::EC2::FlowLog
    Properties:
      ResourceId: !Ref VPC
      ResourceType: VPC
      TrafficType: ALL
      LogDestinationType: s3
      LogDestination: !Sub "arn:\${AWS::Partition}:s3:::\${FlowLogBucket}/vpc-flow-logs/"
      # A whole-value expression keeps its type: this renders as the number 60 or 600.
      MaxAggregationInterval: "{{ account.environment == 'production' ? 60 : 600 }}"
Outputs:
  VpcId:
    Value: !Ref VPC
    Export: { Name: !Sub "\${AWS::StackName}-VpcId" }
  PrivateSubnetIds:
    Description: Comma-separated, for other stacks (!Split) and for the clusters' load balancers
    Value: !Join [",", [!Ref PrivateSubnetA, !Ref PrivateSubnetB, !Ref PrivateSubnetC]]
    Export: { Name: !Sub "\${AWS::StackName}-PrivateSubnetIds" }
  PublicSubnetIds:
    Value: !Join [",", [!Ref PublicSubnetA, !Ref PublicSubnetB, !Ref PublicSubnetC]]
    Export: { Name: !Sub "\${AWS::StackName}-PublicSubnetIds" }
`

const LOGGING = `# The log bucket of each account region: load balancer access logs (annotated on the ingress
# controller's Service, cluster/manifests/ingress-nginx/) and VPC flow logs (stacks/vpc.yaml).
# Logs are evidence: the bucket is retained when the stack or the resource goes away.
AWSTemplateFormatVersion: "2010-09-09"
Description: Log bucket for load balancer access logs and VPC flow logs
Metadata:
  StackName: logging
  Scope: { Type: region }
  # No Select: every active account gets it.
Resources:
  LogBucket:
    Type: AWS::S3::Bucket
    DeletionPolicy: Retain
    UpdateReplacePolicy: Retain
    Properties:
      BucketName: "logs-{{ account.id }}-{{ region }}"
      BucketEncryption:
        ServerSideEncryptionConfiguration:
          - ServerSideEncryptionByDefault: { SSEAlgorithm: AES256 }   # load balancer logs need SSE-S3
      PublicAccessBlockConfiguration:
        BlockPublicAcls: true
        BlockPublicPolicy: true
        IgnorePublicAcls: true
        RestrictPublicBuckets: true
      OwnershipControls:
        Rules: [{ ObjectOwnership: BucketOwnerEnforced }]
      VersioningConfiguration: { Status: Enabled }
      LifecycleConfiguration:
        Rules:
          - Id: expire-logs
            Status: Enabled
            ExpirationInDays: "{{ account.environment == 'production' ? 400 : 30 }}"
            NoncurrentVersionExpiration: { NoncurrentDays: 30 }
      Tags:
        - { Key: owner, Value: "{{ account.team }}" }
        - { Key: cost-center, Value: "{{ account.costCenter }}" }
  LogBucketPolicy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref LogBucket
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Sid: LoadBalancerAccessLogs
            Effect: Allow
            Principal: { Service: logdelivery.elasticloadbalancing.amazonaws.com }
            Action: s3:PutObject
            Resource: !Sub "\${LogBucket.Arn}/elb/*"
          - Sid: FlowLogDelivery
            Effect: Allow
            Principal: { Service: delivery.logs.amazonaws.com }
            Action: s3:PutObject
            Resource: !Sub "\${LogBucket.Arn}/vpc-flow-logs/*"
            Condition:
              StringEquals: { "aws:SourceAccount": !Ref AWS::AccountId }
          - Sid: FlowLogAclCheck
            Effect: Allow
            Principal: { Service: delivery.logs.amazonaws.com }
            Action: s3:GetBucketAcl
            Resource: !GetAtt LogBucket.Arn
          - Sid: DenyInsecureTransport
            Effect: Deny
            Principal: "*"
            Action: "s3:*"
            Resource: [!GetAtt LogBucket.Arn, !Sub "\${LogBucket.Arn}/*"]
            Condition:
              Bool: { "aws:SecureTransport": "false" }
Outputs:
  LogBucketName:
    Value: !Ref LogBucket
  LogBucketArn:
    Value: !GetAtt LogBucket.Arn
    Export: { Name: !Sub "\${AWS::StackName}-LogBucketArn" }
`

const HOSTED_ZONES = `# Each account's public DNS zone, <account name>.example.org, and a certificate for it.
# Production runs on these zones: external-dns (cluster/manifests/external-dns/) writes the
# records of every service into them, and monitoring and ops tooling resolve through them.
# Deleting or replacing a zone (a protected resource) always needs an approval of its address.
AWSTemplateFormatVersion: "2010-09-09"
Description: Public hosted zone and wildcard certificate of the account
Metadata:
  StackName: route53-hostedzones
  Scope: { Type: global }                  # one per account, in its home region
  Select: account.environment != 'test'    # test accounts have no public zone
  Parameters:
    DomainName: "{{ config.dns_domain }}"
Parameters:
  DomainName:
    Type: String
    Description: The zone's domain, without the trailing dot
Resources:
  HostedZone:
    Type: AWS::Route53::HostedZone
    Properties:
      Name: !Sub "\${DomainName}."
      HostedZoneConfig:
        Comment: "Zone of account {{ account.name }} (team {{ account.team }}), managed by Flotilla"
      HostedZoneTags:
        - { Key: owner, Value: "{{ account.team }}" }
        - { Key: environment, Value: "{{ account.environment }}" }
  Certificate:
    Type: AWS::CertificateManager::Certificate
    Properties:
      DomainName: !Ref DomainName
      SubjectAlternativeNames: ["*.{{ config.dns_domain }}"]
      ValidationMethod: DNS
      DomainValidationOptions:
        - DomainName: !Ref DomainName
          HostedZoneId: !Ref HostedZone
Outputs:
  HostedZoneId:
    Value: !Ref HostedZone
    Export: { Name: !Sub "\${AWS::StackName}-HostedZoneId" }
  NameServers:
    Description: For the delegation in the parent zone (account ops-dns)
    Value: !Join [",", !GetAtt HostedZone.NameServers]
  CertificateArn:
    Value: !Ref Certificate
`

function iamRoles(ops: Readonly<Record<OpsAccountName, string>>): string {
  return `# The IAM roles every account has: the role Flotilla deploys with (trusted by the ops-tooling
# account), read-only access for monitoring (trusted by ops-monitoring), the team's developer
# role through single sign-on, a break-glass role in tier-1 accounts, and the roles the cluster
# components use through EKS Pod Identity.
AWSTemplateFormatVersion: "2010-09-09"
Description: Deployment, monitoring, developer, break-glass and cluster component roles
Metadata:
  StackName: iam-roles
  Scope: { Type: global }                  # IAM is global: one stack per account
  Parameters:
    TeamName: "{{ account.team }}"
    Criticality: "{{ account.criticality }}"
    Environment: "{{ account.environment }}"
Parameters:
  TeamName:
    Type: String
  Criticality:
    Type: String
    AllowedValues: [tier-1, tier-2, tier-3]
  Environment:
    Type: String
  OpsToolingAccountId:
    Type: String
    Default: "${ops['ops-tooling']}"       # the ops-tooling account
  MonitoringAccountId:
    Type: String
    Default: "${ops['ops-monitoring']}"    # the ops-monitoring account
Conditions:
  IsTier1: !Equals [!Ref Criticality, tier-1]
  HasPublicZone: !Not [!Equals [!Ref Environment, test]]
Resources:
  DeploymentRole:
    Type: AWS::IAM::Role
    Properties:
      RoleName: flotilla-deployment
      Description: Assumed by Flotilla in the ops-tooling account to apply stacks
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: { AWS: !Sub "arn:\${AWS::Partition}:iam::\${OpsToolingAccountId}:role/flotilla-controller" }
            Action: sts:AssumeRole
      ManagedPolicyArns:
        - !Sub "arn:\${AWS::Partition}:iam::aws:policy/AdministratorAccess"
      MaxSessionDuration: 3600
  MonitoringReadOnlyRole:
    Type: AWS::IAM::Role
    Properties:
      RoleName: monitoring-readonly
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: { AWS: !Sub "arn:\${AWS::Partition}:iam::\${MonitoringAccountId}:root" }
            Action: sts:AssumeRole
      ManagedPolicyArns:
        - !Sub "arn:\${AWS::Partition}:iam::aws:policy/ReadOnlyAccess"
        - !Sub "arn:\${AWS::Partition}:iam::aws:policy/CloudWatchReadOnlyAccess"
  DeveloperRole:
    Type: AWS::IAM::Role
    Properties:
      RoleName: !Sub "\${TeamName}-developer"
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: { Federated: !Sub "arn:\${AWS::Partition}:iam::\${AWS::AccountId}:saml-provider/corporate-sso" }
            Action: sts:AssumeRoleWithSAML
            Condition:
              StringEquals: { "SAML:aud": "https://signin.aws.amazon.com/saml" }
      ManagedPolicyArns:
        - !Sub "arn:\${AWS::Partition}:iam::aws:policy/PowerUserAccess"
      MaxSessionDuration: 43200
      Tags:
        - { Key: owner, Value: !Ref TeamName }
  BreakGlassRole:
    Type: AWS::IAM::Role
    Condition: IsTier1
    Properties:
      RoleName: break-glass
      Description: Full access for incidents; every use pages the SRE on call
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: { AWS: !Sub "arn:\${AWS::Partition}:iam::\${OpsToolingAccountId}:root" }
            Action: sts:AssumeRole
            Condition:
              Bool: { "aws:MultiFactorAuthPresent": "true" }
      ManagedPolicyArns:
        - !Sub "arn:\${AWS::Partition}:iam::aws:policy/AdministratorAccess"
  ExternalDnsRole:
    Type: AWS::IAM::Role
    Condition: HasPublicZone
    Properties:
      RoleName: external-dns
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: { Service: pods.eks.amazonaws.com }
            Action: [sts:AssumeRole, sts:TagSession]
      Policies:
        - PolicyName: route53-records
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Action: route53:ChangeResourceRecordSets
                Resource: !Sub "arn:\${AWS::Partition}:route53:::hostedzone/*"
              - Effect: Allow
                Action: [route53:ListHostedZones, route53:ListResourceRecordSets, route53:ListTagsForResource]
                Resource: "*"
  ClusterAutoscalerRole:
    Type: AWS::IAM::Role
    Properties:
      RoleName: cluster-autoscaler
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: { Service: pods.eks.amazonaws.com }
            Action: [sts:AssumeRole, sts:TagSession]
      Policies:
        - PolicyName: autoscaling
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Action:
                  - autoscaling:DescribeAutoScalingGroups
                  - autoscaling:DescribeAutoScalingInstances
                  - autoscaling:DescribeLaunchConfigurations
                  - autoscaling:DescribeTags
                  - ec2:DescribeInstanceTypes
                  - ec2:DescribeLaunchTemplateVersions
                Resource: "*"
              - Effect: Allow
                Action: [autoscaling:SetDesiredCapacity, autoscaling:TerminateInstanceInAutoScalingGroup]
                Resource: "*"
                Condition:
                  StringEquals: { "aws:ResourceTag/k8s.io/cluster-autoscaler/enabled": "true" }
Outputs:
  DeploymentRoleArn:
    Value: !GetAtt DeploymentRole.Arn
  DeveloperRoleArn:
    Value: !GetAtt DeveloperRole.Arn
  BreakGlassRoleArn:
    Condition: IsTier1
    Value: !GetAtt BreakGlassRole.Arn
`
}

const OPS_MONITORING = `# Alerting infrastructure of the ops accounts (group ops): the alert topic that pages the
# on-call engineer, and in ops-monitoring the cache Alertmanager deduplicates alerts with. One
# staging account (config ops_staging) rehearses it, so that a change meets a non-production
# account before the ops stage: otherwise production would be its first test.
# The paging endpoint is a secret kept in SSM Parameter Store; {{resolve:ssm:…}} is
# CloudFormation's dynamic reference and reaches CloudFormation exactly as written.
AWSTemplateFormatVersion: "2010-09-09"
Description: Alert topic and paging subscription; alert deduplication cache in ops-monitoring
Metadata:
  StackName: ops-monitoring
  Scope: { Type: region }
  Select: account.group == 'ops' || has(config.ops_staging)   # and the staging account that rehearses them
  Parameters:
    AccountName: "{{ account.name }}"
    CacheNodeType: "{{ account.name == 'ops-monitoring' ? 'cache.r6g.large' : 'cache.t4g.small' }}"
Parameters:
  AccountName:
    Type: String
  CacheNodeType:
    Type: String
Conditions:
  IsMonitoringAccount: !Equals [!Ref AccountName, ops-monitoring]
Resources:
  AlertTopic:
    Type: AWS::SNS::Topic
    Properties:
      TopicName: !Sub "platform-alerts-\${AWS::Region}"
      DisplayName: Platform alerts
  PagingSubscription:
    Type: AWS::SNS::Subscription
    Properties:
      TopicArn: !Ref AlertTopic
      Protocol: https
      Endpoint: "{{resolve:ssm:/platform/alerting/paging-endpoint}}"
  AlertCacheSubnets:
    Type: AWS::ElastiCache::SubnetGroup
    Condition: IsMonitoringAccount
    Properties:
      Description: Private subnets of the account VPC (stacks/vpc.yaml)
      SubnetIds: !Split [",", !ImportValue vpc-PrivateSubnetIds]
  AlertCache:
    Type: AWS::ElastiCache::ReplicationGroup   # protected: a built-in stateful type
    Condition: IsMonitoringAccount
    DeletionPolicy: Snapshot
    UpdateReplacePolicy: Snapshot
    Properties:
      ReplicationGroupDescription: Alertmanager deduplication and silences
      Engine: valkey
      CacheNodeType: !Ref CacheNodeType
      NumCacheClusters: 2
      AutomaticFailoverEnabled: true
      MultiAZEnabled: true
      AtRestEncryptionEnabled: true
      TransitEncryptionEnabled: true
      CacheSubnetGroupName: !Ref AlertCacheSubnets
      SnapshotRetentionLimit: 7
Outputs:
  AlertTopicArn:
    Value: !Ref AlertTopic
    Export: { Name: !Sub "\${AWS::StackName}-AlertTopicArn" }
  AlertCacheEndpoint:
    Condition: IsMonitoringAccount
    Value: !GetAtt AlertCache.PrimaryEndPoint.Address
`
