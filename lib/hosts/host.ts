import * as ipaddr from "ipaddr.js";
import { Construct } from "constructs";
import {
  ITerraformDependable,
  SSHProvisionerConnection,
  TerraformStack,
  TerraformVariable,
  Token,
} from "cdktf";
import { join as quote } from "shlex";
import { ClusterSecrets } from "../core/cluster-secrets";
import { ReleaseProfile } from "../core/releases";
import { Role } from "../core/roles";
import { HOST_SECRETS_DIR, ShellScript } from "../core/shell-script";
import { hclString } from "../core/hcl";
import {
  CONTROL_CHARACTER,
  INTERFACE_NAME,
  INTERFACE_NAME_EXPECTED,
  HOST_OR_IPV4_EXPECTED,
  hostNameProblem,
  ipv4AddressProblem,
  isHostOrIPv4,
  isSshPublicKey,
  networkEdgeProblem,
  quote as quoteValue,
  SSH_PUBLIC_KEY_EXPECTED,
  SSH_TIMEOUT,
  SSH_TIMEOUT_EXPECTED,
  UNIX_USER,
  UNIX_USER_EXPECTED,
} from "../core/field-rules";
import { LateValue } from "../core/late-value";
import {
  inputsHash,
  stackClaims,
  Step,
  StepProps,
  StepResourceKind,
  StepTarget,
  stepLogicalId,
} from "../core/step";
import {
  resolveVolumeBackends,
  TargetHelper,
  VolumeBackend,
  VolumeBackendSpec,
  volumeBackendsProblem,
} from "./volume-backends";

/** A jump host that SSH goes through to reach the server (Terraform's `bastion_*` connection fields). */
export interface BastionProps {
  /** The jump host's hostname or IPv4 address. */
  readonly host: string;
  /** @default the host's SSH user */
  readonly user?: string;
  /** @default 22 */
  readonly port?: number;
  /** @default the host's key */
  readonly privateKeyFile?: string;
  /** The jump host's pinned public host key; Terraform refuses any other. @default not checked */
  readonly hostKey?: string;
}

/** Configures a `Host`: its name and address, how SSH reaches it, its network interfaces, and its settings for Nova, Neutron and Cinder. */
export interface HostProps {
  /** The hostname the server gets; also its name in /etc/hosts and in step ids. */
  readonly name: string;
  /** Management address (IPv4: see IPV6_NOT_SUPPORTED); SSH and every service use it. */
  readonly address: string;
  /** The distribution + OpenStack release the server runs. */
  readonly release: ReleaseProfile;
  /** @default "root" (any other user needs passwordless sudo) */
  readonly user?: string;
  /** @default 22 */
  readonly port?: number;
  /**
   * Private key file; `~` is expanded by Terraform, which reads it at apply (see SshKeys).
   * @default "~/.ssh/id_ed25519", unless `agent` is true
   */
  readonly privateKeyFile?: string;
  /** Authenticate with the running ssh-agent. @default false */
  readonly agent?: boolean;
  /** Pinned public host key; Terraform refuses any other. @default not checked */
  readonly hostKey?: string;
  /** @default "5m" */
  readonly timeout?: string;
  /** A jump host that SSH goes through. @default none (direct) */
  readonly bastion?: BastionProps;
  /** @default "eth0" */
  readonly managementInterface?: string;
  /** Interface on the provider (external) network. @default none */
  readonly providerInterface?: string;
  /** Interface carrying VXLAN tunnels. @default none */
  readonly tunnelInterface?: string;
  /** Address on the tunnel network. @default the management address */
  readonly tunnelAddress?: string;
  /** Prefix length of the tunnel network (the address's netmask). @default 24 */
  readonly tunnelPrefixLength?: number;
  /**
   * nova-compute's hypervisor: `kvm`, `qemu` (emulation), or `auto` (kvm where /dev/kvm exists,
   * decided on the host). @default "auto"
   */
  readonly virtType?: "auto" | "kvm" | "qemu";
  /**
   * Open vSwitch's datapath: `system` (the kernel module) or `netdev` (userspace, for hosts
   * without the module). @default "system"
   */
  readonly datapathType?: "system" | "netdev";
  /**
   * Cinder's volume backends on this host (a storage host): cinder-volume runs where there is
   * at least one. @default none
   */
  readonly volumeBackends?: readonly VolumeBackendSpec[];
  /**
   * The target helper of an LVM backend that names none: the release's, which Cinder declares
   * (`cinderRelease(release).defaultTargetHelper`; OpenStackCluster passes it).
   * @default "tgtadm" (upstream's default)
   */
  readonly defaultTargetHelper?: TargetHelper;
  /** @default "terraform_data" */
  readonly resourceKind?: StepResourceKind;
}

/** Options of `Host.addStep`: who owns the step, what it waits for, and the secrets it uses. */
export interface AddStepOptions {
  /**
   * The construct the step belongs to (a service, a platform construct): the step becomes its
   * child, inside a scope named after this host, so that `owner.node.findAll()` and Aspects see
   * it. The logical id is the same either way (host name + step name).
   * @default this host
   */
  readonly owner?: Construct;
  /** Steps on other hosts (or any resources) that must finish first. @default none */
  readonly dependsOn?: readonly ITerraformDependable[];
  /**
   * Steps this one needs, on any host, such as what an `IDatabase` or `IMessageBus` says to
   * wait for. Those on this host run earlier anyway (a host's steps run in the order they were
   * added, and a step exists only once added), so only the others join `depends_on`.
   * @default none
   */
  readonly after?: readonly Step[];
  /**
   * Secrets the step's files refer to (`{{secret:NAME}}`): they are delivered to the host
   * first, and a new value re-runs the step. @default none
   */
  readonly secrets?: readonly string[];
  /** Provisioners that run before the script. @default none */
  readonly preProvisioners?: StepProps["preProvisioners"];
}

/**
 * The stack's SSH keys as Terraform variables: `ssh_private_key` for the hosts, and
 * `ssh_bastion_private_key` for a jump host with a key file of its own. Each is null unless
 * given (`TF_VAR_ssh_private_key="$(cat key)"`, from a vault or a CI secret), and then the key
 * file is read, at apply only: `terraform validate` and `plan` never read a key, so a machine
 * without one (a CI runner) can run them. Ephemeral (Terraform >= 1.10): a key given is never
 * written into a plan file or the state.
 */
export class SshKeys extends Construct {
  /** The stack's instance, created on first use. */
  static of(scope: Construct): SshKeys {
    const stack = TerraformStack.of(scope);
    return (stack.node.tryFindChild(SSH_KEYS_ID) as SshKeys | undefined) ?? new SshKeys(stack, SSH_KEYS_ID);
  }

  /** The connection field's value: the variable when given, else the file's content. */
  key(variable: "ssh_private_key" | "ssh_bastion_private_key", file: string): string {
    if (!this.node.tryFindChild(variable)) {
      const declared = new TerraformVariable(this, variable, {
        type: "string",
        sensitive: true,
        nullable: true,
        description: `An SSH private key's content; when null, ${variable === "ssh_private_key" ? "each host's" : "the jump host's"} key file is read at apply`,
      });
      declared.overrideLogicalId(variable);
      // cdktf's config has neither: a default of null (not given) and `ephemeral`.
      declared.addOverride("default", null);
      declared.addOverride("ephemeral", true);
    }
    return `\${var.${variable} != null ? var.${variable} : file(pathexpand(${hclString(file)}))}`;
  }
}
const SSH_KEYS_ID = "ssh_keys";

/**
 * The connection's fields reach Terraform's JSON as they are (a key file goes through
 * `hclString`), where `${` or `%{` would be evaluated: each must be a value that cannot hold one.
 */
function checkConnectionProps(props: HostProps): void {
  const bad = (field: string, value: unknown, expected: string): never => {
    throw new Error(`Host ${props.name} ${field}: got ${quoteValue(value)}: expected ${expected}`);
  };
  const checkPort = (field: string, port: number | undefined) => {
    if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65535)) {
      bad(field, port, "a port from 1 to 65535");
    }
  };
  const checkKeyFile = (field: string, file: string | undefined) => {
    if (file !== undefined && (file.length === 0 || file.length > 4096 || CONTROL_CHARACTER.test(file))) {
      bad(field, file, "a file path of 1 to 4096 characters without control characters");
    }
  };
  checkPort("port", props.port);
  checkKeyFile("privateKeyFile", props.privateKeyFile);
  if (props.hostKey !== undefined && !isSshPublicKey(props.hostKey)) {
    bad("hostKey", props.hostKey, SSH_PUBLIC_KEY_EXPECTED);
  }
  if (props.timeout !== undefined && !SSH_TIMEOUT.test(props.timeout)) {
    bad("timeout", props.timeout, SSH_TIMEOUT_EXPECTED);
  }
  const interfaces: [string, string | undefined][] = [
    ["managementInterface", props.managementInterface],
    ["providerInterface", props.providerInterface],
    ["tunnelInterface", props.tunnelInterface],
  ];
  for (const [field, name] of interfaces) {
    if (name !== undefined && !INTERFACE_NAME.test(name)) bad(field, name, INTERFACE_NAME_EXPECTED);
  }
  const bastion = props.bastion;
  if (bastion) {
    if (!isHostOrIPv4(bastion.host)) bad("bastion.host", bastion.host, HOST_OR_IPV4_EXPECTED);
    if (bastion.user !== undefined && !UNIX_USER.test(bastion.user)) {
      bad("bastion.user", bastion.user, UNIX_USER_EXPECTED);
    }
    checkPort("bastion.port", bastion.port);
    checkKeyFile("bastion.privateKeyFile", bastion.privateKeyFile);
    if (bastion.hostKey !== undefined && !isSshPublicKey(bastion.hostKey)) {
      bad("bastion.hostKey", bastion.hostKey, SSH_PUBLIC_KEY_EXPECTED);
    }
  }
}

/** The hosts of each stack by address (one spelling per address: `::1` and `0:0::1` are one). */
const addressesByStack = new WeakMap<TerraformStack, Map<string, string>>();

/** Two hosts of one stack at one address would each be the other's SSH target: refused. */
function claimAddress(host: Construct, name: string, address: string): void {
  const taken = stackClaims(addressesByStack, host);
  const key = ipaddr.parse(address).toNormalizedString();
  const other = taken.get(key);
  if (other !== undefined) {
    throw new Error(
      `Host ${name} address: got ${quoteValue(address)}: expected an address no other host of the stack has (Host ${other} has it)`,
    );
  }
  taken.set(key, name);
}

/** Where secrets (and other uploads) land before the root-only install moves them into place. */
export function uploadDir(user: string): string {
  return user === "root" ? "/root/.openstack-cdktf-upload" : `/home/${user}/.openstack-cdktf-upload`;
}

/**
 * One server reached over SSH. Steps run on it; role constructs (`ControllerNode`, …) mark what
 * it is for; secrets it needs are delivered once, by its `secrets` step, into a root-only
 * directory from which later steps' files are filled.
 */
export class Host extends Construct implements StepTarget {
  readonly hostName: string;
  /** Management address: SSH and every service use it. */
  readonly address: string;
  /** The distribution + OpenStack release the server runs: its packages, paths and units. */
  readonly release: ReleaseProfile;
  /** The SSH user the steps log in as (root, or a user with passwordless sudo). */
  readonly user: string;
  readonly connection: SSHProvisionerConnection;
  readonly resourceKind: StepResourceKind;
  /** Interface of the management network (Heartbeat puts the VIP on it). */
  readonly managementInterface: string;
  /** Interface on the provider (external) network, bridged by Open vSwitch; undefined: none. */
  readonly providerInterface?: string;
  /** Interface carrying VXLAN tunnels; undefined: none. */
  readonly tunnelInterface?: string;
  /** Address on the tunnel network (the Open vSwitch agent's `local_ip`): the management address unless given. */
  readonly tunnelAddress: string;
  /** Prefix length of the tunnel network, 8 to 32. */
  readonly tunnelPrefixLength: number;
  /** nova-compute's hypervisor: `kvm`, `qemu`, or `auto` (decided on the host). */
  readonly virtType: "auto" | "kvm" | "qemu";
  /** Open vSwitch's datapath (the agent's `datapath_type`): `system` (kernel) or `netdev` (userspace). */
  readonly datapathType: "system" | "netdev";
  /** Cinder's volume backends here, each target helper filled in from the release; empty: no cinder-volume. */
  readonly volumeBackends: readonly VolumeBackend[];
  private readonly roleSet = new Set<Role>();
  private readonly secretNames = new Set<string>();
  private secretsStepInstance?: Step;
  private lastStep?: Step;
  /** Every step of this host but `converged`, in the order they were added. */
  private readonly chain: Step[] = [];
  private readonly convergedStepInstance: Step;

  constructor(scope: Construct, id: string, props: HostProps) {
    super(scope, id);
    const nameProblem = hostNameProblem(props.name);
    if (nameProblem) throw new Error(`Host name: got ${quoteValue(props.name)}: expected ${nameProblem}`);
    if (props.user !== undefined && !UNIX_USER.test(props.user)) {
      throw new Error(
        `Host ${props.name} user: got ${quoteValue(props.user)}: expected ${UNIX_USER_EXPECTED}`,
      );
    }
    const addressProblem = ipv4AddressProblem(props.address);
    if (addressProblem) {
      throw new Error(
        `Host ${props.name} address: got ${quoteValue(props.address)}: expected ${addressProblem}`,
      );
    }
    checkConnectionProps(props);
    claimAddress(this, props.name, props.address);
    this.hostName = props.name;
    this.address = props.address;
    this.release = props.release;
    this.user = props.user ?? "root";
    this.resourceKind = props.resourceKind ?? "terraform_data";
    this.managementInterface = props.managementInterface ?? "eth0";
    this.providerInterface = props.providerInterface;
    this.tunnelInterface = props.tunnelInterface;
    this.tunnelAddress = props.tunnelAddress ?? props.address;
    this.tunnelPrefixLength = props.tunnelPrefixLength ?? 24;
    if (
      !Number.isInteger(this.tunnelPrefixLength) ||
      this.tunnelPrefixLength < 8 ||
      this.tunnelPrefixLength > 32
    ) {
      throw new Error(
        `Host ${props.name} tunnelPrefixLength: got ${quoteValue(props.tunnelPrefixLength)}: expected a whole number from 8 to 32`,
      );
    }
    // The management address stands in for a tunnel address nobody gave: checked as the address above.
    const tunnelProblem =
      props.tunnelAddress === undefined
        ? undefined
        : (ipv4AddressProblem(props.tunnelAddress) ??
          networkEdgeProblem(
            props.tunnelAddress,
            `${props.tunnelAddress}/${this.tunnelPrefixLength}`,
            "tunnel",
          ));
    if (tunnelProblem) {
      throw new Error(
        `Host ${props.name} tunnelAddress: got ${quoteValue(this.tunnelAddress)}: expected ${tunnelProblem}`,
      );
    }
    this.virtType = props.virtType ?? "auto";
    this.datapathType = props.datapathType ?? "system";
    const backends = props.volumeBackends ?? [];
    const targetHelper = props.defaultTargetHelper ?? "tgtadm";
    const problem = volumeBackendsProblem(backends, targetHelper);
    if (problem) {
      throw new Error(
        `Host ${props.name} volumeBackends${problem.field}: got ${quoteValue(problem.value)}: expected ${problem.expected}`,
      );
    }
    this.volumeBackends = resolveVolumeBackends(backends, targetHelper);
    const keyFile = props.agent ? undefined : (props.privateKeyFile ?? "~/.ssh/id_ed25519");
    const bastion = props.bastion;
    const bastionKey = bastion?.privateKeyFile ?? keyFile;
    this.connection = {
      type: "ssh",
      host: props.address,
      user: this.user,
      port: props.port ?? 22,
      timeout: props.timeout ?? "5m",
      ...(keyFile ? { privateKey: SshKeys.of(this).key("ssh_private_key", keyFile) } : { agent: "true" }),
      ...(props.hostKey ? { hostKey: props.hostKey } : {}),
      ...(bastion
        ? {
            bastionHost: bastion.host,
            bastionUser: bastion.user ?? this.user,
            bastionPort: bastion.port ?? 22,
            ...(bastionKey
              ? {
                  bastionPrivateKey: SshKeys.of(this).key(
                    bastion.privateKeyFile === undefined ? "ssh_private_key" : "ssh_bastion_private_key",
                    bastionKey,
                  ),
                }
              : {}),
            ...(bastion.hostKey ? { bastionHostKey: bastion.hostKey } : {}),
          }
        : {}),
    };
    this.convergedStepInstance = this.convergedStep();
  }

  /** Every step on this host, whichever construct owns it: `converged` first, then the others in order. */
  get steps(): readonly Step[] {
    return [this.convergedStepInstance, ...this.chain];
  }

  /**
   * Every host's last step, `<host>_converged`: it runs after all the others, and again
   * whenever one of them is replaced (its trigger is their ids). Its prelude finishes any run on
   * this host that did not end well, and it fails if one is left. Terraform saves a resource before
   * its provisioner ends, so a step cut by killing Terraform may be recorded as done and is
   * never run again; a later step on its host finishes it ("A run cut short" in
   * shell-script.ts), and for the host's last step this is that later step.
   */
  private convergedStep(): Step {
    const script = this.script("converged")
      .comment("The prelude finished any step on this host whose run did not end well; none may be left.")
      .raw("osc_no_cut_runs_left");
    const step = new Step(this, "converged", {
      target: this,
      script,
      inputs: LateValue.any(
        () => `\${sha256(join(",", [${this.chain.map((s) => `${s.address}.id`).join(", ")}]))}`,
      ),
    });
    step.resource.dependsOn = Token.asList(LateValue.any(() => this.chain.map((s) => s.address)));
    return step;
  }

  /** The roles this host holds, in the order they were added. */
  get roles(): readonly Role[] {
    return [...this.roleSet];
  }

  /** Whether a role construct gave this host `role`. */
  hasRole(role: Role): boolean {
    return this.roleSet.has(role);
  }

  /** Called by role constructs. */
  addRole(role: Role): void {
    this.roleSet.add(role);
  }

  /**
   * A new step on this host. Steps on one host run one after another, in the order they were
   * added (two apt runs or two restarts of one service must never overlap); steps on different
   * hosts run in parallel unless `dependsOn` says otherwise.
   */
  addStep(name: string, script: ShellScript, options: AddStepOptions = {}): Step {
    const secrets =
      options.secrets && options.secrets.length > 0 ? this.useSecrets(options.secrets) : undefined;
    const dependsOn = [
      ...(this.lastStep ? [this.lastStep] : []),
      ...(secrets && secrets.step !== this.lastStep ? [secrets.step] : []),
      ...(options.dependsOn ?? []),
      ...(options.after ?? []).filter((s) => !this.chain.includes(s)),
    ];
    const step = new Step(this.stepScope(options.owner), name, {
      target: this,
      script,
      dependsOn,
      inputs: secrets?.inputs,
      preProvisioners: options.preProvisioners,
    });
    this.lastStep = step;
    this.chain.push(step);
    return step;
  }

  /** Where an owner's steps on this host live: the owner's child named after this host. */
  private stepScope(owner: Construct | undefined): Construct {
    if (owner === undefined || owner === this) return this;
    const existing = owner.node.tryFindChild(this.hostName);
    if (existing instanceof HostSteps) return existing;
    if (existing) {
      throw new Error(
        `Host ${this.hostName}: step owner ${owner.node.path} already has a child ${this.hostName} that is not its steps on this host`,
      );
    }
    return new HostSteps(owner, this.hostName);
  }

  /** A script builder that names this host and the step in its error messages. */
  script(stepName: string): ShellScript {
    return new ShellScript({ step: stepLogicalId(this.hostName, stepName), host: this.hostName });
  }

  /**
   * Declares that this host's steps need these secrets. Returns the step that delivers them
   * (depend on it) and the inputs to add to a step's triggers, so that the step re-runs when a
   * secret's value changes.
   */
  useSecrets(names: readonly string[]): {
    /** The step that delivers the secrets to this host (`secrets`); depend on it. */
    step: Step;
    /** Trigger inputs (`secret_NAME`: the secret's expression) that re-run a step when a value changes. */
    inputs: Record<string, string>;
  } {
    const secrets = ClusterSecrets.of(this);
    const inputs: Record<string, string> = {};
    for (const name of names) {
      inputs[`secret_${name}`] = secrets.expression(name);
      this.secretNames.add(name);
    }
    return { step: this.secretsStep(), inputs };
  }

  /** The names of the secrets delivered to this host, sorted. */
  get secretsDelivered(): readonly string[] {
    return [...this.secretNames].sort();
  }

  private secretsStep(): Step {
    if (this.secretsStepInstance) return this.secretsStepInstance;
    const secrets = ClusterSecrets.of(this);
    const dir = uploadDir(this.user);
    const upload = `${dir}/secrets`;
    const names = () => [...this.secretNames].sort();
    // Each line is "NAME BASE64"; base64 keeps any value off the shell's parser. Late, because
    // services declare the secrets they use after this step exists.
    const content = LateValue.string(() =>
      names()
        .map((n) => `${n} \${base64encode(${secrets.expression(n)})}\n`)
        .join(""),
    );
    const inputs = LateValue.any(() =>
      inputsHash(Object.fromEntries(names().map((n) => [n, secrets.expression(n)]))),
    );
    const script = this.script("secrets")
      .comment("Install the uploaded secrets as root-only files, one per secret, then remove the upload.")
      .comment("Each value is decoded whole before anything is written, so a bad upload writes nothing.")
      .run("install", "-d", "-m", "0700", "/etc/openstack-cdktf", HOST_SECRETS_DIR)
      .raw(`while read -r name value; do`)
      .raw(`  decoded=$(printf '%s' "$value" | base64 -d)`)
      .raw(`  printf '%s' "$decoded" | osc_install_file secrets "$OSC_SECRETS_DIR/$name" root root 0600`)
      .raw(`done < ${quote([upload])}`)
      .run("rm", "-f", upload);
    this.secretsStepInstance = new Step(this, "secrets", {
      target: this,
      script,
      inputs,
      dependsOn: this.lastStep ? [this.lastStep] : undefined,
      preProvisioners: [
        // Runs as the SSH user: a private directory for the upload before any secret is sent.
        {
          type: "remote-exec",
          inline: [`umask 077 && mkdir -p ${quote([dir])} && chmod 0700 ${quote([dir])}`],
        },
        { type: "file", content, destination: upload },
      ],
    });
    this.lastStep = this.secretsStepInstance;
    this.chain.push(this.secretsStepInstance);
    return this.secretsStepInstance;
  }
}

/** An owner's steps on one host (construct id: the host name), so that one owner may have a step of the same name on several hosts. */
export class HostSteps extends Construct {}
