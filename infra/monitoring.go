package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/jsii-runtime-go"

	"github.com/privacy-pipeline/dsr/internal/metrics"
	"github.com/privacy-pipeline/dsr/internal/resources"
)

// newMonitoring defines the operators' topic, the alarms that page them and
// the dashboard they watch.
func (p *pipeline) newMonitoring(api awsapigatewayv2.HttpApi) {
	topic := awssns.NewTopic(p.scope, jsii.String("OperatorsTopic"), &awssns.TopicProps{
		DisplayName: jsii.String("Privacy pipeline operators"),
		MasterKey:   p.key,
		EnforceSSL:  jsii.Bool(true),
	})
	if p.props.OperatorEmail != "" {
		topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(p.props.OperatorEmail), nil))
	}
	action := awscloudwatchactions.NewSnsAction(topic)
	p.newMailAlarms(action)
	five := awscdk.Duration_Minutes(jsii.Number(5))
	// An alarm on executions links to where they are listed in the
	// console (filter by status there).
	alarm := func(id, what string, m awscloudwatch.IMetric, link ...*string) {
		desc := jsii.String(what)
		if len(link) > 0 {
			desc = awscdk.Fn_Join(jsii.String(""), &[]*string{jsii.String(what + " Executions: "), link[0]})
		}
		a := awscloudwatch.NewAlarm(p.scope, jsii.String(id), &awscloudwatch.AlarmProps{
			AlarmDescription:   desc,
			Metric:             m,
			Threshold:          jsii.Number(1),
			EvaluationPeriods:  jsii.Number(1),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
		a.AddAlarmAction(action)
	}

	workflow := p.machines[resources.RequestWorkflow.ID]
	watch := p.machines[resources.DeadlineWatch.ID]
	sum := &awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: five}
	workflowLink, watchLink := p.machineConsoleURL(resources.RequestWorkflow), p.machineConsoleURL(resources.DeadlineWatch)
	// Every ordinary end is SUCCEEDED: completed, denied, expired, joined,
	// and cancelled (the cancel fails the workflow's wait into a Succeed
	// state); a watch ends SUCCEEDED when its request closes. So each
	// FAILED, TIMED_OUT or ABORTED execution below means trouble.
	alarm("RequestWorkflowFailed", "A request workflow failed: the request is flagged for an operator (privacyctl list; privacyctl redrive ID resumes it).", workflow.MetricFailed(sum), workflowLink)
	alarm("RequestWorkflowTimedOut", "A request workflow timed out.", workflow.MetricTimedOut(sum), workflowLink)
	alarm("RequestWorkflowAborted", "A request workflow was stopped by hand (a cancel ends it SUCCEEDED: use privacyctl cancel ID, never Stop execution).", workflow.MetricAborted(sum), workflowLink)
	// A watch fails exactly when its request passes the due date open.
	alarm("RequestsOverdue", "A request passed its statutory due date while open (privacyctl list --overdue).", watch.MetricFailed(sum), watchLink)
	alarm("DeadlineWatchTimedOut", "A deadline watch timed out.", watch.MetricTimedOut(sum), watchLink)
	alarm("DeadlineWatchAborted", "A deadline watch was stopped by hand: its request's deadlines are no longer watched (a close ends it SUCCEEDED by itself).", watch.MetricAborted(sum), watchLink)
	for _, f := range resources.Functions {
		fn := p.fn(f)
		alarm(camel(f.Name)+"Errors", "The "+f.Name+" function failed.", fn.MetricErrors(sum))
		alarm(camel(f.Name)+"Throttles", "The "+f.Name+" function was throttled.", fn.MetricThrottles(sum))
	}
	alarm("ApiServerErrors", "The HTTP API answered with 5xx.", api.MetricServerError(sum))

	// The deadline report counts, every hour, the open requests due within
	// three days; a request near its date pages the operators before it is late.
	awsevents.NewRule(p.scope, jsii.String("DeadlineReportSchedule"), &awsevents.RuleProps{
		Description: jsii.String("Counts open requests due within three days"),
		Schedule:    awsevents.Schedule_Rate(awscdk.Duration_Hours(jsii.Number(1))),
		Targets:     &[]awsevents.IRuleTarget{awseventstargets.NewLambdaFunction(p.fn(resources.DeadlineReport), nil)},
	})
	dueSoon := awscloudwatch.NewAlarm(p.scope, jsii.String("RequestsDueSoon"), &awscloudwatch.AlarmProps{
		AlarmDescription: jsii.String("Open requests are due within three days (privacyctl list --due-within 3)."),
		Metric: awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
			Namespace: jsii.String(metrics.Namespace), MetricName: jsii.String(metrics.DueSoon),
			Statistic: jsii.String("Maximum"), Period: awscdk.Duration_Hours(jsii.Number(1)),
		}),
		Threshold:          jsii.Number(1),
		EvaluationPeriods:  jsii.Number(1),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
	dueSoon.AddAlarmAction(action)

	// The sweeper starts requests stored without a workflow (a start that
	// failed, a process that ended between the two). Its rate and
	// sweeper.DefaultMinAge bound how late a lost request starts: ten
	// minutes. One it cannot start is flagged, and counted at every sweep
	// until it starts, so this alarm stays on while any is stuck.
	awsevents.NewRule(p.scope, jsii.String("SweeperSchedule"), &awsevents.RuleProps{
		Description: jsii.String("Starts the workflows of requests stored without one"),
		Schedule:    awsevents.Schedule_Rate(five),
		Targets:     &[]awsevents.IRuleTarget{awseventstargets.NewLambdaFunction(p.fn(resources.Sweeper), nil)},
	})
	alarm("RequestsNotStarted", "A stored request's workflow could not be started; it is flagged for an operator (privacyctl list) and the sweeper tries again every five minutes.",
		awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
			Namespace: jsii.String(metrics.Namespace), MetricName: jsii.String(metrics.NotStarted),
			Statistic: jsii.String("Sum"), Period: five,
		}))

	custom := func(name, stat string) awscloudwatch.Metric {
		return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
			Namespace: jsii.String(metrics.Namespace), MetricName: jsii.String(name),
			Statistic: jsii.String(stat), Period: awscdk.Duration_Hours(jsii.Number(1)),
		})
	}
	dash := awscloudwatch.NewDashboard(p.scope, jsii.String("Dashboard"), &awscloudwatch.DashboardProps{
		DashboardName: p.dashboardName(),
	})
	// Where an operator goes from here: the executions of each state
	// machine (one per request, named by its id).
	dash.AddWidgets(awscloudwatch.NewTextWidget(&awscloudwatch.TextWidgetProps{
		Markdown: awscdk.Fn_Join(jsii.String(""), &[]*string{
			jsii.String("**Executions:** [request workflows]("), workflowLink,
			jsii.String(") · [deadline watches]("), watchLink,
			jsii.String("). Every ordinary end is SUCCEEDED; FAILED, TIMED_OUT and ABORTED mean trouble. `privacyctl show ID` links a request's execution."),
		}),
		Width: jsii.Number(24), Height: jsii.Number(2),
	}))
	dash.AddWidgets(
		awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
			Title: jsii.String("Requests received, completed, overdue (per hour)"), Width: jsii.Number(12),
			Left: &[]awscloudwatch.IMetric{custom(metrics.Received, "Sum"), custom(metrics.Completed, "Sum"), custom(metrics.Overdue, "Sum")},
		}),
		awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
			Title: jsii.String("Open requests, and those due within three days"), Width: jsii.Number(12),
			Left: &[]awscloudwatch.IMetric{custom(metrics.Open, "Maximum"), custom(metrics.DueSoon, "Maximum")},
		}),
		awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
			Title: jsii.String("Days to complete, and days to spare before the due date"), Width: jsii.Number(12),
			Left: &[]awscloudwatch.IMetric{custom(metrics.DaysToComplete, "Average"), custom(metrics.DaysToComplete, "Maximum"), custom(metrics.HeadroomDays, "Minimum")},
		}),
		awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
			Title: jsii.String("Requests stored without a workflow: started late by the sweeper, not started"), Width: jsii.Number(12),
			Left: &[]awscloudwatch.IMetric{custom(metrics.StartedLate, "Sum"), custom(metrics.NotStarted, "Sum")},
		}),
		awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
			Title: jsii.String("Workflows"), Width: jsii.Number(12),
			Left: &[]awscloudwatch.IMetric{workflow.MetricStarted(sum), workflow.MetricSucceeded(sum), workflow.MetricFailed(sum), watch.MetricFailed(sum)},
		}),
		awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
			Title: jsii.String("HTTP API"), Width: jsii.Number(12),
			Left: &[]awscloudwatch.IMetric{api.MetricCount(sum), api.MetricClientError(sum), api.MetricServerError(sum)},
		}),
		// Mail to the privacy inbox: what arrives, what fails, and what
		// waits for an operator or sits in the dead-letter queue.
		awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
			Title: jsii.String("Privacy inbox: mail handled, failed; waiting for an operator; dead letters"), Width: jsii.Number(12),
			Left: &[]awscloudwatch.IMetric{p.fn(resources.Inbound).MetricInvocations(sum), p.fn(resources.Inbound).MetricErrors(sum)},
			Right: &[]awscloudwatch.IMetric{
				p.inbox.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{Statistic: jsii.String("Maximum"), Period: five}),
				p.inboundDLQ.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{Statistic: jsii.String("Maximum"), Period: five}),
			},
		}),
	)
}
